import { describe, expect, test } from "vitest";
import type { BlobStore } from "../../src/ports";
import { blobReaderContract, type BlobReaderFixture } from "./blob-reader";
import { freshRepository, randomBytes, sha256 } from "./fixtures";

/** A BlobStore contract run: the store, and a way to put a blob into a repository (an upload, for R2). */
export interface BlobStoreFixture extends BlobReaderFixture {
  reader: BlobStore;
}

/**
 * The whole blob port (read role, plus delete and cross-repository mount, spec §"Deleting blobs", §"Mounting a
 * blob from another repository"), for every implementation that accepts writes.
 */
export function blobStoreContract(name: string, make: () => BlobStoreFixture | Promise<BlobStoreFixture>): void {
  blobReaderContract(name, make);
  describe(`BlobStore contract: ${name}`, () => {
    test("a blob is seen only through the repository that holds it", async () => {
      const { reader, seed } = await make();
      const digest = await seed(freshRepository("holder"), randomBytes(100));
      expect(await reader.stat(freshRepository("other"), digest)).toBeNull();
      expect(await reader.open(freshRepository("other"), digest)).toBeNull();
    });

    test("delete unlinks the blob from its repository: true once, then false", async () => {
      const { reader, seed } = await make();
      const repository = freshRepository("delete");
      const digest = await seed(repository, randomBytes(100));
      expect(await reader.delete(repository, digest)).toBe(true);
      expect(await reader.stat(repository, digest)).toBeNull();
      expect(await reader.delete(repository, digest)).toBe(false);
    });

    test("mount links from the first source that holds the blob, only from the sources given", async () => {
      const { reader, seed } = await make();
      const source = freshRepository("source");
      const bytes = randomBytes(500);
      const digest = await seed(source, bytes);
      const target = freshRepository("target");
      expect(await reader.mount(target, digest, [])).toBeNull();
      expect(await reader.mount(target, digest, [freshRepository("empty")])).toBeNull();
      expect(await reader.stat(target, digest)).toBeNull();
      expect(await reader.mount(target, digest, [freshRepository("empty"), source])).toEqual({ digest, size: bytes.byteLength });
      expect(await reader.stat(target, digest)).toEqual({ digest, size: bytes.byteLength });
      // the source keeps its own link when the target's is deleted
      await reader.delete(target, digest);
      expect(await reader.stat(source, digest)).toEqual({ digest, size: bytes.byteLength });
    });

    test('mount from "any" finds any repository\'s copy; an unknown digest mounts nothing', async () => {
      const { reader, seed } = await make();
      const digest = await seed(freshRepository("anywhere"), randomBytes(200));
      const target = freshRepository("any-target");
      expect(await reader.mount(target, digest, "any")).toEqual({ digest, size: 200 });
      expect(await reader.stat(target, digest)).toEqual({ digest, size: 200 });
      expect(await reader.mount(target, await sha256(randomBytes(8)), "any")).toBeNull();
    });
  });
}
