/**
 * Digests computed while bytes flow, as TransformStreams over core's one `Verifier` (verifier.ts): a blob of any
 * size is stored with constant memory and verified on the way in.
 * Spec: distribution-spec "Pushing blobs" (the registry MUST verify the digest) and "Pulling blobs".
 */
import type { Digest } from "./digest";
import type { ResumableHash } from "./hash";
import { Verifier } from "./verifier";

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
  const verifier = new Verifier({}, [hash], hash.length);
  const done = verifier.done.then(([digest]) => ({ digest: digest!, size: verifier.size }));
  done.catch(() => {});
  return { stream: verifier.stream(), done };
}

/**
 * A pass-through TransformStream that checks the bytes against `expected` (and `expectedSize`, if given).
 * The stream errors — so a consumer such as an R2 `put` aborts instead of storing bad content — with
 * `OciError("SIZE_INVALID")` as soon as more than `expectedSize` bytes arrive or, at the end, when fewer did,
 * and with `OciError("DIGEST_INVALID")` at the end when the digest differs; the last chunk is released only once
 * the content checked out. Both carry `detail` `{expected, actual}`.
 * Spec: distribution-spec "Pushing blobs" (digest and Content-Length verification).
 */
export function verifyingStream(expected: Digest, expectedSize?: number): TransformStream<Uint8Array, Uint8Array> {
  return new Verifier({ digest: expected, size: expectedSize }).stream();
}
