import type { Digest, RepositoryName } from "@registry/core";
import { describe, expect, test } from "vitest";
import type { BlobReader } from "../../src/ports";
import { freshRepository, randomBytes, readAll, sha256 } from "./fixtures";

/** What a BlobReader contract run needs: the store, and a way to make a blob readable through it. */
export interface BlobReaderFixture {
  reader: BlobReader;
  /** Makes `bytes` a blob of `repository` as this store would find it (pushed, or upstream); returns its digest. */
  seed(repository: RepositoryName, bytes: Uint8Array): Promise<Digest>;
}

/**
 * The read role of blobs (spec §"Pulling blobs"), for every implementation: absent is null, `stat` and `open`
 * give the exact size, `read` the exact bytes, a range exactly its bytes. Each test opens afresh (an OpenBlob
 * is read once). `make` runs per test.
 */
export function blobReaderContract(name: string, make: () => BlobReaderFixture | Promise<BlobReaderFixture>): void {
  describe(`BlobReader contract: ${name}`, () => {
    test("an absent blob is null for stat and open", async () => {
      const { reader } = await make();
      const repository = freshRepository("absent");
      const digest = await sha256(randomBytes(16));
      expect(await reader.stat(repository, digest)).toBeNull();
      expect(await reader.open(repository, digest)).toBeNull();
    });

    test("stat gives the digest and size; open + read gives exactly the bytes", async () => {
      const { reader, seed } = await make();
      const repository = freshRepository("whole");
      const bytes = randomBytes(70_000);
      const digest = await seed(repository, bytes);
      expect(await reader.stat(repository, digest)).toEqual({ digest, size: bytes.byteLength });
      const blob = await reader.open(repository, digest);
      expect(blob).toMatchObject({ digest, size: bytes.byteLength });
      expect(await readAll(await blob!.read())).toEqual(bytes);
    });

    test("read(range) yields exactly the range: the middle, the first byte, the last bytes", async () => {
      const { reader, seed } = await make();
      const repository = freshRepository("range");
      const bytes = randomBytes(50_000);
      const digest = await seed(repository, bytes);
      for (const [offset, length] of [[1000, 2345], [0, 1], [bytes.byteLength - 10, 10]] as const) {
        const blob = await reader.open(repository, digest);
        const part = await readAll(await blob!.read({ offset, length }));
        expect(part, `${offset}+${length}`).toEqual(bytes.slice(offset, offset + length));
      }
    });

    test("once read, the blob is found again with the same size", async () => {
      const { reader, seed } = await make();
      const repository = freshRepository("again");
      const bytes = randomBytes(3000);
      const digest = await seed(repository, bytes);
      await readAll(await (await reader.open(repository, digest))!.read());
      const again = await reader.open(repository, digest);
      expect(again?.size).toBe(bytes.byteLength);
      expect(await readAll(await again!.read())).toEqual(bytes);
    });
  });
}
