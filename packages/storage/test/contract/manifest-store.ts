import type { Digest, RepositoryName, Tag } from "@registry/core";
import { describe, expect, test } from "vitest";
import type { ManifestStore, ManifestWrite } from "../../src/ports";
import { freshRepository, OCI_MANIFEST, randomBytes, sha256 } from "./fixtures";
import { manifestReaderContract, someManifest } from "./manifest-reader";

/** A ManifestStore contract run: the store, and a way to put a blob into a repository (for `storedSizes`). */
export interface ManifestStoreFixture {
  store: ManifestStore;
  seedBlob(repository: RepositoryName, bytes: Uint8Array): Promise<Digest>;
}

async function write(bytes: Uint8Array, extra: Partial<ManifestWrite> = {}): Promise<ManifestWrite> {
  return { digest: await sha256(bytes), mediaType: OCI_MANIFEST, size: bytes.byteLength, bytes, ...extra };
}

/**
 * The whole manifest port (read and write roles: spec §"Pushing manifests", §"Deleting tags", §"Deleting
 * manifests", §"Listing tags", §"Listing referrers", catalog), for every implementation that accepts pushes.
 */
export function manifestStoreContract(name: string, make: () => ManifestStoreFixture | Promise<ManifestStoreFixture>): void {
  manifestReaderContract(name, async () => {
    const { store } = await make();
    return {
      reader: store,
      async seed(repository, tag, bytes) {
        const m = await write(bytes);
        await store.put(repository, m, tag);
        return m.digest;
      },
    };
  });

  describe(`ManifestStore contract: ${name}`, () => {
    test("storedSizes: each blob's and child manifest's size in order, null where absent, in one answer", async () => {
      const { store, seedBlob } = await make();
      const repository = freshRepository("sizes");
      const blob = await seedBlob(repository, randomBytes(321));
      const child = await write(await someManifest());
      await store.put(repository, child);
      const absent = await sha256(randomBytes(8));
      expect(await store.storedSizes(repository, { blobs: [blob, absent, child.digest], manifests: [absent, child.digest, blob] })).toEqual({
        blobs: [321, null, null],
        manifests: [null, child.size, null],
      });
      expect(await store.storedSizes(repository, { blobs: [], manifests: [] })).toEqual({ blobs: [], manifests: [] });
    });

    test("a manifest over 1 MiB (up to 4 MiB) keeps its exact bytes", async () => {
      const { store } = await make();
      const repository = freshRepository("large");
      const bytes = await someManifest({ annotations: { pad: "x".repeat(1536 * 1024) } });
      const m = await write(bytes);
      await store.put(repository, m, "big" as Tag);
      const got = await store.get(repository, { kind: "tag", tag: "big" as Tag });
      expect(got?.size).toBe(bytes.byteLength);
      expect(await sha256(new Uint8Array(got!.bytes))).toBe(m.digest); // (a deep compare of 1.5 MB takes seconds)
      expect(await store.deleteManifest(repository, m.digest)).toBe(true);
      expect(await store.get(repository, { kind: "digest", digest: m.digest })).toBeNull();
    });

    test("a tag moves; deleteTag removes only the tag; deleteManifest removes the manifest and its tags", async () => {
      const { store } = await make();
      const repository = freshRepository("tags");
      const [a, b] = [await write(await someManifest()), await write(await someManifest())];
      await store.put(repository, a, "t" as Tag);
      await store.put(repository, b, "t" as Tag);
      expect((await store.stat(repository, { kind: "tag", tag: "t" as Tag }))?.digest).toBe(b.digest);
      expect(await store.deleteTag(repository, "t" as Tag)).toBe(true);
      expect(await store.deleteTag(repository, "t" as Tag)).toBe(false);
      expect(await store.stat(repository, { kind: "digest", digest: b.digest })).not.toBeNull();
      await store.put(repository, a, "u" as Tag);
      expect(await store.deleteManifest(repository, a.digest)).toBe(true);
      expect(await store.stat(repository, { kind: "tag", tag: "u" as Tag })).toBeNull();
      expect(await store.deleteManifest(repository, a.digest)).toBe(false);
    });

    test("listTags: byte order, pages of n after last, null for a repository never pushed to", async () => {
      const { store } = await make();
      const repository = freshRepository("list");
      const m = await write(await someManifest());
      for (const tag of ["b", "A", "a", "c"]) await store.put(repository, m, tag as Tag);
      expect(await store.listTags(repository, 10)).toEqual({ items: ["A", "a", "b", "c"], more: false });
      expect(await store.listTags(repository, 2)).toEqual({ items: ["A", "a"], more: true });
      expect(await store.listTags(repository, 2, "a")).toEqual({ items: ["b", "c"], more: false });
      expect(await store.listTags(freshRepository("never"), 10)).toBeNull();
      const names = await store.listRepositories(10_000);
      expect(names.items).toContain(repository);
    });

    test("listReferrers: the referrer descriptors of a subject, in digest order, paged", async () => {
      const { store } = await make();
      const repository = freshRepository("referrers");
      const subject = await sha256(randomBytes(8));
      const referrers = await Promise.all([1, 2, 3].map(async () => write(await someManifest())));
      for (const r of referrers) {
        const referrer = { mediaType: OCI_MANIFEST, digest: r.digest, size: r.size, artifactType: "application/x-test" };
        await store.put(repository, { ...r, subject, referrer });
      }
      const sorted = referrers.map((r) => r.digest).sort();
      const all = await store.listReferrers(repository, subject, 10);
      expect(all.items.map((d) => d.digest)).toEqual(sorted);
      expect(all.items[0]).toMatchObject({ mediaType: OCI_MANIFEST, artifactType: "application/x-test" });
      expect(await store.listReferrers(repository, subject, 2)).toMatchObject({ more: true });
      expect((await store.listReferrers(repository, subject, 2, sorted[1])).items.map((d) => d.digest)).toEqual([sorted[2]]);
    });
  });
}
