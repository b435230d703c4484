import { env } from "cloudflare:test";
import type { Digest, RepositoryName } from "@registry/core";
import { createMeteredStores, newStorageOps, type StorageOps } from "@registry/storage";
import { describe, expect, test } from "vitest";
import { forgetHash } from "../../../packages/storage/src/upload-hashing";
import { freshRepository, randomBytes, readAll, sha256 } from "../../../packages/storage/test/contract/fixtures";
import type { Env } from "../src/index";

/**
 * The upload store's hash modes (packages/storage/src/upload-hashing.ts), seen through what it reads back from R2:
 * an upload whose requests reach the isolate holding its native hash never reads back a byte; one whose request
 * lands elsewhere (simulated by forgetting the live hash) reads back the bytes stored so far once, then goes on with
 * the resumable hash without reading again — and every mode finishes with the right digest and bytes.
 */

const e = env as unknown as Env;
const ops: StorageOps = newStorageOps();
const stores = createMeteredStores(e.REGISTRY_BUCKET, { repositories: e.REPOSITORY_INDEX, catalog: e.CATALOG, blobs: e.BLOB_INDEX }, ops);
const CHUNK = 3 * 1024 * 1024 + 7;

const known = (bytes: Uint8Array) => ({ stream: new Response(bytes.slice()).body!, length: bytes.byteLength });

/** Whole chunks' worth of bytes read from R2 by `step` (the session's few hundred bytes of state count as 0). */
async function readBy(step: () => Promise<unknown>): Promise<number> {
  const before = ops.bytesRead;
  await step();
  return Math.floor((ops.bytesRead - before) / CHUNK);
}

/** Pushes `data` in chunks of CHUNK, calling `between(id, index)` before each chunk after the first; returns the chunks read back per step. */
async function push(repository: RepositoryName, data: Uint8Array, digest: Digest, between: (id: string, i: number) => void): Promise<number[]> {
  const { id } = await stores.uploads.start(repository);
  const reads: number[] = [];
  for (let at = 0, i = 0; at < data.byteLength; at += CHUNK, i++) {
    if (i > 0) between(id, i);
    reads.push(await readBy(() => stores.uploads.append(repository, id, known(data.subarray(at, at + CHUNK)), at)));
  }
  reads.push(await readBy(() => stores.uploads.finish(repository, id, digest)));
  return reads;
}

async function stored(repository: RepositoryName, digest: Digest): Promise<Uint8Array> {
  const blob = await stores.blobs.open(repository, digest);
  return readAll(await blob!.read());
}

describe("hash modes of an upload over several requests", () => {
  test("every request in the isolate holding the native hash: nothing read back", async () => {
    const repository = freshRepository("hash-live");
    const data = randomBytes(3 * CHUNK);
    const digest = await sha256(data);
    expect(await push(repository, data, digest, () => undefined)).toEqual([0, 0, 0, 0]);
    expect(await sha256(await stored(repository, digest))).toBe(digest);
  });

  test("a request elsewhere (no live hash): the stored bytes are read back once, then the resumable hash goes on", async () => {
    const repository = freshRepository("hash-moved");
    const data = randomBytes(4 * CHUNK);
    const digest = await sha256(data);
    const reads = await push(repository, data, digest, (id, i) => i >= 2 && forgetHash(id));
    expect(reads).toEqual([0, 0, 2, 0, 0]);
    expect(await sha256(await stored(repository, digest))).toBe(digest);
  });

  test("a wrong digest is refused in every mode", async () => {
    const data = randomBytes(2 * CHUNK);
    const wrong = await sha256(data.subarray(1));
    for (const between of [() => undefined, (id: string) => forgetHash(id)]) {
      const repository = freshRepository("hash-wrong");
      await expect(push(repository, data, wrong, between)).rejects.toMatchObject({ code: "DIGEST_INVALID" });
      expect(await stores.blobs.stat(repository, wrong)).toBeNull();
    }
  });
});
