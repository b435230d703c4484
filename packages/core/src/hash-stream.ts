/**
 * Digests computed while bytes flow: pass-through `TransformStream`s that hash what goes through them, so a blob
 * of any size is stored with constant memory and verified on the way in.
 * Spec: distribution-spec "Pushing blobs" (the registry MUST verify the digest) and "Pulling blobs".
 */
import type { Digest } from "./digest";
import { digestAlgorithm } from "./digest";
import { OciError } from "./errors";
import type { ResumableHash } from "./hash";
import { createHash } from "./hash";

/**
 * A TransformStream that passes bytes through unchanged and feeds them to `hash` (a fresh `createHash(…)` or a
 * `restoreHash(…)` of an upload in progress). `done` resolves once the stream has ended with the digest of
 * everything `hash` has seen and `size` = `hash.length` (so, for a restored hash, the total including earlier
 * chunks). `done` rejects if the stream is aborted or errors (a rejection nobody awaits is not reported as
 * unhandled). The hash stays usable afterwards, e.g. for `saveState()`.
 * Spec: distribution-spec "Pushing a blob in chunks".
 */
export function hashingStream(hash: ResumableHash): {
  stream: TransformStream<Uint8Array, Uint8Array>;
  done: Promise<{ digest: Digest; size: number }>;
} {
  let resolve!: (value: { digest: Digest; size: number }) => void;
  let reject!: (reason: unknown) => void;
  const done = new Promise<{ digest: Digest; size: number }>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => {});
  // `cancel` (called when the stream is aborted) is newer than the Transformer type of TypeScript's DOM lib, so the
  // transformer is not an object literal passed directly (which would fail the excess-property check) and names
  // no global stream types (which differ between DOM, Node and Workers typings). Runtimes without `cancel`
  // simply leave `done` pending on abort.
  const transformer = {
    transform(chunk: Uint8Array, controller: { enqueue(chunk: Uint8Array): void }): void {
      try {
        hash.update(chunk);
      } catch (e) {
        reject(e);
        throw e;
      }
      controller.enqueue(chunk);
    },
    flush(): void {
      resolve({ digest: hash.digest(), size: hash.length });
    },
    cancel(reason: unknown): void {
      reject(reason);
    },
  };
  const stream = new TransformStream<Uint8Array, Uint8Array>(transformer);
  return { stream, done };
}

/**
 * A pass-through TransformStream that checks the bytes against `expected` (and `expectedSize`, if given).
 * The stream errors — so a consumer such as an R2 `put` aborts instead of storing bad content — with
 * `OciError("SIZE_INVALID")` as soon as more than `expectedSize` bytes arrive or, at the end, when fewer did,
 * and with `OciError("DIGEST_INVALID")` at the end when the digest differs. Both carry `detail`
 * `{expected, actual}`. Spec: distribution-spec "Pushing blobs" (digest and Content-Length verification).
 */
export function verifyingStream(expected: Digest, expectedSize?: number): TransformStream<Uint8Array, Uint8Array> {
  const hash = createHash(digestAlgorithm(expected));
  const sizeError = (actual: number): OciError =>
    new OciError("SIZE_INVALID", { detail: { expected: expectedSize, actual } });
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      if (expectedSize !== undefined && hash.length > expectedSize) throw sizeError(hash.length);
      controller.enqueue(chunk);
    },
    flush() {
      if (expectedSize !== undefined && hash.length !== expectedSize) throw sizeError(hash.length);
      const actual = hash.digest();
      if (actual !== expected) throw new OciError("DIGEST_INVALID", { detail: { expected, actual } });
    },
  });
}
