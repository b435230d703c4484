import {
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
 * How an upload's digest is known, in three modes (packages/storage/STORAGE.md, "Digests while streaming"):
 * the first request hashes natively (workerd's DigestStream, fast, not resumable) — sha256 and sha512 while the
 * digest is unknown, only the expected algorithm when it is given; from the second request on, core's resumable
 * sha256, saved in the session after every chunk; a sha512 upload spread over several requests is read back once
 * when it finishes. Every mode is core's one Verifier over a different hash.
 */

/**
 * The verifier for the next `length` bytes (undefined: unknown) of the upload in `state`; `expected` is checked
 * in-stream when the verifier can (always on the first request; with the resumable hash only for sha256), else
 * by `uploadDigest` at commit. The bytes already stored are read back once when a second request arrives (any
 * open multipart must have been closed for that).
 */
export async function uploadVerifier(
  bucket: R2Bucket,
  state: UploadState,
  length: number | undefined,
  expected?: Digest,
): Promise<Verifier> {
  const size = length === undefined ? undefined : state.size + length;
  if (state.size === 0) {
    const algorithms: DigestAlgorithm[] = expected ? [digestAlgorithm(expected)] : ["sha256", "sha512"];
    return new Verifier({ digest: expected, size }, algorithms.map((a) => new NativeDigest(a)));
  }
  const digest = expected && digestAlgorithm(expected) === "sha256" ? expected : undefined;
  if (state.hash) return resumeVerifier(state.hash, { digest, size });
  const hash = await hashStored(bucket, state, createHash("sha256"));
  return new Verifier({ digest, size }, [hash], state.size);
}

/** Records in `state` what `verifier` learned of the bytes it passed: the resumable state, or the native digests. */
export async function recordHashes(state: UploadState, verifier: Verifier, resumable: boolean): Promise<void> {
  const digests = await verifier.finish();
  if (resumable) {
    state.hash = verifier.saveState();
    delete state.candidates;
  } else if (state.size > 0) {
    state.candidates = Object.fromEntries(digests.map((d) => [digestAlgorithm(d), d]));
  }
}

/** The digest of every byte of the upload in `state` (all segments closed), by `algorithm`. */
export async function uploadDigest(bucket: R2Bucket, state: UploadState, algorithm: DigestAlgorithm): Promise<Digest> {
  if (state.size === 0) return digestOf(algorithm, new Uint8Array(0));
  const candidate = state.candidates?.[algorithm];
  if (candidate) return candidate;
  if (algorithm === "sha256" && state.hash) return restoreHash(state.hash).digest();
  // sha512 over several requests: the resumable hash tracks sha256 only, so read the bytes back once.
  return (await hashStored(bucket, state, new NativeDigest(algorithm))).digest();
}

/** Feeds the bytes already stored for `state` into `hash`. */
async function hashStored<H extends ContentHash>(bucket: R2Bucket, state: UploadState, hash: H): Promise<H> {
  for await (const chunk of readSegments(bucket, state.segments)) await hash.update(chunk);
  return hash;
}
