import type { Digest, RepositoryName, Tag } from "@registry/core";
import { describe, expect, test } from "vitest";
import type { ManifestReader } from "../../src/ports";
import { freshRepository, imageManifestBytes, OCI_MANIFEST, randomBytes, sha256 } from "./fixtures";

/** What a ManifestReader contract run needs: the store, and a way to make a tagged manifest readable. */
export interface ManifestReaderFixture {
  reader: ManifestReader;
  /** Makes `bytes` (an OCI image manifest) a manifest of `repository` tagged `tag`; returns its digest. */
  seed(repository: RepositoryName, tag: Tag, bytes: Uint8Array): Promise<Digest>;
}

/** A manifest's bytes whose config and layer digests are random (nothing needs to exist for storage). */
export async function someManifest(extra: object = {}): Promise<Uint8Array> {
  return imageManifestBytes({ digest: await sha256(randomBytes(8)), size: 8 }, { digest: await sha256(randomBytes(8)), size: 8 }, extra);
}

/**
 * The read role of manifests (spec §"Pulling manifests", §"Listing referrers"), for every implementation: by tag
 * and by digest the exact bytes with digest, media type and size; `stat` the same without bytes; absent is null.
 */
export function manifestReaderContract(name: string, make: () => ManifestReaderFixture | Promise<ManifestReaderFixture>): void {
  describe(`ManifestReader contract: ${name}`, () => {
    test("by tag and by digest: the exact bytes, digest, media type and size", async () => {
      const { reader, seed } = await make();
      const repository = freshRepository("manifest");
      const bytes = await someManifest();
      const digest = await seed(repository, "v1" as Tag, bytes);
      expect(digest).toBe(await sha256(bytes));
      const info = { digest, mediaType: OCI_MANIFEST, size: bytes.byteLength };
      for (const ref of [{ kind: "tag", tag: "v1" as Tag }, { kind: "digest", digest }] as const) {
        const got = await reader.get(repository, ref);
        expect(got).toMatchObject(info);
        expect(new Uint8Array(got!.bytes)).toEqual(bytes);
        expect(await reader.stat(repository, ref)).toMatchObject(info);
      }
    });

    test("an absent tag or digest is null", async () => {
      const { reader, seed } = await make();
      const repository = freshRepository("absent");
      await seed(repository, "v1" as Tag, await someManifest());
      const digest = await sha256(randomBytes(8));
      expect(await reader.get(repository, { kind: "tag", tag: "nope" as Tag })).toBeNull();
      expect(await reader.stat(repository, { kind: "tag", tag: "nope" as Tag })).toBeNull();
      expect(await reader.get(repository, { kind: "digest", digest })).toBeNull();
      expect(await reader.stat(repository, { kind: "digest", digest })).toBeNull();
    });

    test("referrers of a digest nothing refers to: an empty page", async () => {
      const { reader } = await make();
      const page = await reader.listReferrers(freshRepository("referrers"), await sha256(randomBytes(8)), 10);
      expect(page).toEqual({ items: [], more: false });
    });
  });
}
