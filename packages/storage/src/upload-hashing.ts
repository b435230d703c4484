import {
  BoundedMap,
  createHash,
  digestAlgorithm,
  digestOf,
  restoreHash,
  resumeVerifier,
  Verifier,
  type ContentHash,
  type Digest,
  type DigestAlgorithm,
} from "@registry/core";
import { readSegments } from "./blob-record";
import { NativeDigest } from "./streams";
import type { UploadState } from "./upload-session";

/**
 * How an upload's digest is known (packages/storage/STORAGE.md, "Digests while streaming"). Every mode is core's
 * one Verifier over a different hash:
 * - native (node:crypto, ~1.5 GB/s): the first request of an upload, checked in-stream when its digest is given
 *   (only that algorithm is hashed; sha256 while the digest is unknown); and every later request that reaches the
 *   isolate still holding the upload's hash (`live`: locally always, one workerd isolate). The session records the
 *   digest so far as its `candidates`.
 * - resumable (core's pure-JS sha256, ~200 MB/s, state saved in the session after every chunk): once a request
 *   finds no live hash, the bytes stored so far are read back once into it, and the upload stays resumable.
 * - read back at the end: a digest of an algorithm nothing tracked (sha512 pushed without its digest up front).
 */

/** Native sha256 hashes of uploads in progress, by session id, as of `size` bytes: kept between their requests. */
const live = new BoundedMap<string, { size: number; hash: NativeDigest }>(256);

/** A request's verifier; whether the session can be resumed from its saved state after it, or its native sha256. */
export interface UploadHashing {
  verifier: Verifier;
  resumable: boolean;
  native?: NativeDigest;
}

/**
 * The verifier for the next `length` bytes (undefined: unknown) of the upload in `state`; `expected` is checked
 * in-stream when the verifier can (natively always; with the resumable hash only for sha256), else by `uploadDigest`
 * at commit. Any open multipart must have been closed when the stored bytes have to be read back.
 */
export async function uploadHashing(
  bucket: R2Bucket,
  state: UploadState,
  length: number | undefined,
  expected?: Digest,
): Promise<UploadHashing> {
  const size = length === undefined ? undefined : state.size + length;
  if (state.size === 0) {
    const native = new NativeDigest(expected ? digestAlgorithm(expected) : "sha256");
    return { verifier: new Verifier({ digest: expected, size }, [native]), resumable: false, native };
  }
  const digest = expected && digestAlgorithm(expected) === "sha256" ? expected : undefined;
  const kept = liveHash(state);
  if (kept) {
    const native = kept.copy();
    return { verifier: new Verifier({ digest, size }, [native], state.size), resumable: false, native };
  }
  if (state.hash) return { verifier: resumeVerifier(state.hash, { digest, size }), resumable: true };
  const hash = await hashStored(bucket, state, createHash("sha256"));
  return { verifier: new Verifier({ digest, size }, [hash], state.size), resumable: true };
}

/**
 * Records in `state` what the request's hashing learned of the bytes it passed: the resumable state, or the native
 * digests so far (`candidates`). Returns what to do once the session is saved: keep a native hash live for the
 * upload's next request (a request that lost a race for its session must not).
 */
export async function recordHashes(state: UploadState, { verifier, resumable, native }: UploadHashing): Promise<() => void> {
  const digests = await verifier.finish();
  if (resumable) {
    state.hash = verifier.saveState();
    delete state.candidates;
    return () => live.delete(state.id);
  }
  state.candidates = Object.fromEntries(digests.map((d) => [digestAlgorithm(d), d]));
  const size = state.size;
  return () => (native?.algorithm === "sha256" ? live.set(state.id, { size, hash: native }) : live.delete(state.id));
}

/** The live native hash that continues the upload in `state`, if this isolate holds it (never once it is resumable). */
function liveHash(state: UploadState): NativeDigest | undefined {
  const kept = state.hash ? undefined : live.get(state.id);
  return kept?.size === state.size ? kept.hash : undefined;
}

/** Will the next request of the upload in `state` read back the bytes stored so far (so they must all be readable)? */
export function needsReadBack(state: UploadState): boolean {
  return state.size > 0 && !state.hash && !liveHash(state);
}

/** Forgets the live hash of a finished or cancelled upload. */
export function forgetHash(id: string): void {
  live.delete(id);
}

/** The digest of every byte of the upload in `state` (all segments closed), by `algorithm`. */
export async function uploadDigest(bucket: R2Bucket, state: UploadState, algorithm: DigestAlgorithm): Promise<Digest> {
  if (state.size === 0) return digestOf(algorithm, new Uint8Array(0));
  const candidate = state.candidates?.[algorithm];
  if (candidate) return candidate;
  if (algorithm === "sha256" && state.hash) return restoreHash(state.hash).digest();
  // An algorithm nothing tracked (the resumable hash and a digest-less first request track sha256): read back once.
  return (await hashStored(bucket, state, new NativeDigest(algorithm))).digest();
}

/** Feeds the bytes already stored for `state` into `hash`. */
async function hashStored<H extends ContentHash>(bucket: R2Bucket, state: UploadState, hash: H): Promise<H> {
  for await (const chunk of readSegments(bucket, state.segments)) await hash.update(chunk);
  return hash;
}
