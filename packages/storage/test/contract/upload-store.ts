import { digestOf, type Digest, type RepositoryName } from "@registry/core";
import { describe, expect, test } from "vitest";
import type { BlobReader, UploadBody, UploadStore } from "../../src/ports";
import { PART_SIZE } from "../../src/segment-writer";
import { freshRepository, randomBytes, readAll, sha256 } from "./fixtures";

/** What an UploadStore contract run needs: the store, and a reader of the blobs its uploads make visible. */
export interface UploadStoreFixture {
  store: UploadStore;
  /** Reads the blobs of the same storage: what a finished upload links must be found here, and nothing else. */
  blobs: BlobReader;
}

/** A body whose length is declared (a PATCH or PUT with Content-Length). */
function known(bytes: Uint8Array): UploadBody {
  return { stream: new Response(bytes.slice()).body!, length: bytes.byteLength };
}

/** A body of unknown length (a chunked PATCH), handed over in pieces of `piece` bytes. */
function unknown(bytes: Uint8Array, piece = 1000): UploadBody {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + piece));
      at += piece;
    },
  });
  return { stream };
}

/** The blob's bytes as `blobs` serves them, or null when the repository does not hold it. */
async function readBlob(blobs: BlobReader, repository: RepositoryName, digest: Digest): Promise<Uint8Array | null> {
  const blob = await blobs.open(repository, digest);
  return blob ? readAll(await blob.read()) : null;
}

/** The first index where `a` and `b` differ, -1 when equal (a deep compare of megabytes takes seconds). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength) return Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * The upload port (spec §"Pushing blobs": POST, PATCH, PUT, GET and DELETE of a session, POST ?digest=), for every
 * implementation: sizes that grow chunk by chunk, 416 BLOB_UPLOAD_INVALID naming the expected start for a chunk out
 * of order, BLOB_UPLOAD_UNKNOWN for unknown sessions, a blob visible with exactly its bytes only once an upload
 * finishes with the right digest, nothing visible and the session gone after DIGEST_INVALID / SIZE_INVALID, bodies
 * of known and unknown length, a body over one R2 multipart part, sha256 and sha512. `make` runs per test.
 */
export function uploadStoreContract(name: string, make: () => UploadStoreFixture | Promise<UploadStoreFixture>): void {
  describe(`UploadStore contract: ${name}`, () => {
    test("start opens an empty session of the repository; status finds it there only", async () => {
      const { store } = await make();
      const repository = freshRepository("start");
      const started = await store.start(repository);
      expect(started).toMatchObject({ repository, size: 0 });
      expect(started.id).toEqual(expect.any(String));
      expect(await store.status(repository, started.id)).toEqual(started);
      expect((await store.start(repository)).id).not.toBe(started.id);
      expect(await store.status(freshRepository("other"), started.id)).toBeNull();
    });

    test("status of an unknown id is null; append and finish throw BLOB_UPLOAD_UNKNOWN; cancel is false", async () => {
      const { store } = await make();
      const repository = freshRepository("unknown");
      const digest = await sha256(new Uint8Array(0));
      for (const id of [crypto.randomUUID(), "not-an-upload-id"]) {
        expect(await store.status(repository, id)).toBeNull();
        await expect(store.append(repository, id, known(randomBytes(10)))).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN", status: 404 });
        await expect(store.finish(repository, id, digest)).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
        expect(await store.cancel(repository, id)).toBe(false);
      }
      // a session is unknown to every other repository
      const { id } = await store.start(repository);
      const other = freshRepository("unknown-other");
      await expect(store.append(other, id, known(randomBytes(10)))).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
      expect(await store.cancel(other, id)).toBe(false);
      expect(await store.status(repository, id)).toMatchObject({ size: 0 });
    });

    test("chunks with and without a claimed start grow the size; finish links exactly the bytes and ends the session", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("chunks");
      const parts = [randomBytes(3000), randomBytes(5000), randomBytes(1), randomBytes(20_000)];
      const { id } = await store.start(repository);
      expect(await store.append(repository, id, known(parts[0]!), 0)).toMatchObject({ id, repository, size: 3000 });
      expect(await store.append(repository, id, unknown(parts[1]!))).toMatchObject({ size: 8000 });
      expect(await store.append(repository, id, known(parts[2]!), 8000)).toMatchObject({ size: 8001 });
      expect(await store.append(repository, id, unknown(parts[3]!, 4096), 8001)).toMatchObject({ size: 28_001 });
      expect(await store.status(repository, id)).toEqual({ id, repository, size: 28_001 });
      const bytes = concat(...parts);
      const digest = await sha256(bytes);
      expect(await store.finish(repository, id, digest)).toEqual({ digest, size: bytes.byteLength });
      expect(await readBlob(blobs, repository, digest)).toEqual(bytes);
      expect(await store.status(repository, id)).toBeNull();
      await expect(store.finish(repository, id, digest)).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
      expect(await store.cancel(repository, id)).toBe(false);
    });

    test("a chunk at the wrong start: 416 BLOB_UPLOAD_INVALID naming the current size, nothing appended", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("range");
      const first = randomBytes(100);
      const { id } = await store.start(repository);
      await expect(store.append(repository, id, known(randomBytes(10)), 5)).rejects.toMatchObject({
        code: "BLOB_UPLOAD_INVALID",
        status: 416,
        detail: { expectedStart: 0 },
      });
      await store.append(repository, id, known(first), 0);
      for (const start of [0, 99, 101, 200]) {
        await expect(store.append(repository, id, known(randomBytes(10)), start), `start ${start}`).rejects.toMatchObject({
          code: "BLOB_UPLOAD_INVALID",
          status: 416,
          detail: { expectedStart: 100 },
        });
      }
      expect(await store.status(repository, id)).toMatchObject({ size: 100 });
      const last = randomBytes(50);
      expect(await store.append(repository, id, unknown(last), 100)).toMatchObject({ size: 150 });
      const digest = await sha256(concat(first, last));
      await store.finish(repository, id, digest);
      expect(await readBlob(blobs, repository, digest)).toEqual(concat(first, last));
    });

    test("finish may carry the last chunk, of known or unknown length", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("last-chunk");
      for (const body of [known, unknown]) {
        const [head, tail] = [randomBytes(4000), randomBytes(2500)];
        const digest = await sha256(concat(head, tail));
        const { id } = await store.start(repository);
        await store.append(repository, id, known(head));
        expect(await store.finish(repository, id, digest, body(tail))).toEqual({ digest, size: 6500 });
        expect(await readBlob(blobs, repository, digest)).toEqual(concat(head, tail));
        expect(await store.status(repository, id)).toBeNull();
      }
      // the whole blob in the finishing request of a fresh session (POST, then PUT with the body)
      const whole = randomBytes(7000);
      const digest = await sha256(whole);
      const { id } = await store.start(repository);
      expect(await store.finish(repository, id, digest, known(whole))).toEqual({ digest, size: 7000 });
      expect(await readBlob(blobs, repository, digest)).toEqual(whole);
    });

    test("an empty upload finishes as the empty blob", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("empty");
      const digest = await sha256(new Uint8Array(0));
      const { id } = await store.start(repository);
      expect(await store.append(repository, id, known(new Uint8Array(0)), 0)).toMatchObject({ size: 0 });
      expect(await store.finish(repository, id, digest)).toEqual({ digest, size: 0 });
      expect(await readBlob(blobs, repository, digest)).toEqual(new Uint8Array(0));
    });

    test("finish with a wrong digest: DIGEST_INVALID, nothing visible, the session discarded", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("wrong-digest");
      // one request (hashed natively) and several (hashed resumably), without and with a last chunk
      for (const chunks of [[randomBytes(3000)], [randomBytes(3000), randomBytes(4000)]]) {
        for (const withLast of [false, true]) {
          const bytes = concat(...chunks);
          const { id } = await store.start(repository);
          for (const chunk of chunks) await store.append(repository, id, unknown(chunk));
          const wrong = await sha256(randomBytes(32));
          const last = withLast ? known(randomBytes(10)) : undefined;
          await expect(store.finish(repository, id, wrong, last)).rejects.toMatchObject({ code: "DIGEST_INVALID" });
          expect(await blobs.stat(repository, wrong)).toBeNull();
          expect(await blobs.stat(repository, await sha256(bytes))).toBeNull();
          expect(await store.status(repository, id)).toBeNull();
          await expect(store.append(repository, id, known(randomBytes(1)))).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
        }
      }
    });

    test("cancel discards the session: true, then status null and cancel false; nothing becomes visible", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("cancel");
      const bytes = randomBytes(2000);
      const { id } = await store.start(repository);
      await store.append(repository, id, known(bytes));
      expect(await store.cancel(repository, id)).toBe(true);
      expect(await store.status(repository, id)).toBeNull();
      expect(await store.cancel(repository, id)).toBe(false);
      await expect(store.append(repository, id, known(randomBytes(1)))).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
      await expect(store.finish(repository, id, await sha256(bytes))).rejects.toMatchObject({ code: "BLOB_UPLOAD_UNKNOWN" });
      expect(await blobs.stat(repository, await sha256(bytes))).toBeNull();
    });

    test("putBlob with the right digest, of known or unknown length: linked, exactly the bytes", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("put");
      for (const body of [known, unknown]) {
        const bytes = randomBytes(12_345);
        const digest = await sha256(bytes);
        expect(await store.putBlob(repository, digest, body(bytes))).toEqual({ digest, size: bytes.byteLength });
        expect(await blobs.stat(repository, digest)).toEqual({ digest, size: bytes.byteLength });
        expect(await readBlob(blobs, repository, digest)).toEqual(bytes);
      }
      // the same blob pushed again is still the same blob
      const bytes = randomBytes(100);
      const digest = await sha256(bytes);
      await store.putBlob(repository, digest, known(bytes));
      expect(await store.putBlob(repository, digest, known(bytes))).toEqual({ digest, size: 100 });
      expect(await readBlob(blobs, repository, digest)).toEqual(bytes);
    });

    test("putBlob with a wrong digest or a wrong length: DIGEST_INVALID / SIZE_INVALID, nothing visible", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("put-wrong");
      const bytes = randomBytes(5000);
      const digest = await sha256(bytes);
      const wrong = await sha256(randomBytes(32));
      await expect(store.putBlob(repository, wrong, known(bytes))).rejects.toMatchObject({ code: "DIGEST_INVALID" });
      await expect(store.putBlob(repository, wrong, unknown(bytes))).rejects.toMatchObject({ code: "DIGEST_INVALID" });
      for (const length of [bytes.byteLength - 1, bytes.byteLength + 1]) {
        const body = { stream: new Response(bytes.slice()).body!, length };
        await expect(store.putBlob(repository, digest, body), `length ${length}`).rejects.toMatchObject({ code: "SIZE_INVALID" });
      }
      expect(await blobs.stat(repository, wrong)).toBeNull();
      expect(await blobs.stat(repository, digest)).toBeNull();
    });

    test("sha512: putBlob, an upload in one request and one over several; a wrong sha512 is DIGEST_INVALID", async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("sha512");
      const one = randomBytes(9000);
      const oneDigest = await digestOf("sha512", one);
      expect(await store.putBlob(repository, oneDigest, unknown(one))).toEqual({ digest: oneDigest, size: 9000 });
      expect(await readBlob(blobs, repository, oneDigest)).toEqual(one);

      const single = randomBytes(6000);
      const singleDigest = await digestOf("sha512", single);
      const first = await store.start(repository);
      await store.append(repository, first.id, unknown(single));
      expect(await store.finish(repository, first.id, singleDigest)).toEqual({ digest: singleDigest, size: 6000 });
      expect(await readBlob(blobs, repository, singleDigest)).toEqual(single);

      const parts = [randomBytes(3000), randomBytes(4000), randomBytes(500)];
      const bytes = concat(...parts);
      const digest = await digestOf("sha512", bytes);
      const many = await store.start(repository);
      await store.append(repository, many.id, known(parts[0]!), 0);
      await store.append(repository, many.id, unknown(parts[1]!), 3000);
      expect(await store.finish(repository, many.id, digest, known(parts[2]!))).toEqual({ digest, size: 7500 });
      expect(await readBlob(blobs, repository, digest)).toEqual(bytes);

      const wrong = await digestOf("sha512", randomBytes(8));
      const failing = await store.start(repository);
      await store.append(repository, failing.id, known(parts[0]!));
      await store.append(repository, failing.id, known(parts[1]!));
      await expect(store.finish(repository, failing.id, wrong)).rejects.toMatchObject({ code: "DIGEST_INVALID" });
      await expect(store.putBlob(repository, wrong, known(one))).rejects.toMatchObject({ code: "DIGEST_INVALID" });
      expect(await blobs.stat(repository, wrong)).toBeNull();
      expect(await store.status(repository, failing.id)).toBeNull();
    });

    test(`a chunk of unknown length over one R2 multipart part (${PART_SIZE} bytes), then more chunks`, async () => {
      const { store, blobs } = await make();
      const repository = freshRepository("large");
      const big = randomBytes(PART_SIZE + 4096);
      const [next, last] = [randomBytes(3000), randomBytes(700)];
      const { id } = await store.start(repository);
      expect(await store.append(repository, id, unknown(big, 256 * 1024))).toMatchObject({ size: big.byteLength });
      expect(await store.append(repository, id, unknown(next), big.byteLength)).toMatchObject({ size: big.byteLength + 3000 });
      const bytes = concat(big, next, last);
      const digest = await sha256(bytes);
      expect(await store.finish(repository, id, digest, unknown(last))).toEqual({ digest, size: bytes.byteLength });
      const read = await readBlob(blobs, repository, digest);
      expect(read && firstDifference(read, bytes)).toBe(-1);

      const whole = randomBytes(PART_SIZE + 1);
      const wholeDigest = await sha256(whole);
      expect(await store.putBlob(repository, wholeDigest, unknown(whole, 1024 * 1024))).toEqual({ digest: wholeDigest, size: whole.byteLength });
      const wholeRead = await readBlob(blobs, repository, wholeDigest);
      expect(wholeRead && firstDifference(wholeRead, whole)).toBe(-1);
    });
  });
}
