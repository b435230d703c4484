/**
 * Incremental SHA-256 and SHA-512 in plain TypeScript whose state can be saved to a string and restored in a
 * later request. WebCrypto only hashes a whole buffer at once and its streaming `DigestStream` (workerd only)
 * cannot be persisted, but a chunked blob upload (PATCH … PATCH … PUT) spans many requests, so the running
 * hash must survive between them.
 *
 * Spec: FIPS 180-4 (SHA-256 §6.2, SHA-512 §6.4, padding §5.1); OCI distribution-spec "Pushing a blob in chunks";
 * image-spec "Descriptor" § Digests.
 *
 * This file holds the buffering, padding and state (de)serialisation; the compression functions, tuned for V8,
 * are in `sha256.ts` and `sha512.ts`. Full blocks go straight from the caller's bytes to the compression
 * function; only the partial tail (< one block) is buffered.
 */
import { fromBase64, toBase64, toHex } from "./encoding";
import { formatDigest, type Digest, type DigestAlgorithm } from "./digest";
import { OciError } from "./errors";
import { compressSha256, SHA256_IV } from "./sha256";
import { compressSha512, SHA512_IV } from "./sha512";

/**
 * A running SHA-256 or SHA-512 computation. `digest()` does not end it: more bytes may follow.
 * `saveState()` gives a string that `restoreHash` turns back into an equivalent hash.
 */
export interface ResumableHash {
  /** The algorithm, as in the digest prefix. */
  readonly algorithm: DigestAlgorithm;
  /** Bytes hashed so far (a safe integer, up to 2^53 - 1). */
  readonly length: number;
  /** Feeds `bytes` (any length, including 0) into the hash. */
  update(bytes: Uint8Array): void;
  /** Finalises a COPY of the state and returns the digest; the hash can continue to be updated afterwards. */
  digest(): Digest;
  /** A compact JSON-serialisable string (base64 of internal words + buffered tail + length, with a checksum). */
  saveState(): string;
}

// ---------------------------------------------------------------------------------------------------------------
// The resumable hash shared by both algorithms

interface Variant {
  /** Block size in bytes (64 or 128). */
  readonly block: number;
  /** Number of 32-bit state words (8 or 16). */
  readonly words: number;
  /** Bytes at the end of the last block that hold the message bit length (8 or 16). */
  readonly lengthField: number;
  readonly iv: readonly number[];
  readonly compress: (s: Int32Array, m: Uint8Array, off: number, blocks: number) => void;
}

const VARIANTS: Readonly<Record<DigestAlgorithm, Variant>> = {
  sha256: { block: 64, words: 8, lengthField: 8, iv: SHA256_IV, compress: compressSha256 },
  sha512: { block: 128, words: 16, lengthField: 16, iv: SHA512_IV, compress: compressSha512 },
};

class Sha2 implements ResumableHash {
  readonly algorithm: DigestAlgorithm;
  length: number;
  private readonly v: Variant;
  private readonly state: Int32Array;
  private readonly tail: Uint8Array;
  private tailLength: number;

  constructor(algorithm: DigestAlgorithm, state?: Int32Array, tail?: Uint8Array, length = 0) {
    this.algorithm = algorithm;
    this.v = VARIANTS[algorithm];
    this.state = state ?? Int32Array.from(this.v.iv);
    this.tail = new Uint8Array(this.v.block);
    this.tailLength = 0;
    if (tail) {
      this.tail.set(tail);
      this.tailLength = tail.length;
    }
    this.length = length;
  }

  update(input: Uint8Array): void {
    // Any other view (a Node Buffer is a Uint8Array already) is read as its underlying bytes.
    const bytes = input.BYTES_PER_ELEMENT === 1 ? input : bytesOf(input);
    const n = bytes.length;
    const block = this.v.block;
    let pos = 0;
    if (this.tailLength > 0) {
      const take = Math.min(block - this.tailLength, n);
      this.tail.set(bytes.subarray(0, take), this.tailLength);
      this.tailLength += take;
      pos = take;
      if (this.tailLength < block) {
        this.length += n;
        return;
      }
      this.v.compress(this.state, this.tail, 0, 1);
      this.tailLength = 0;
    }
    const blocks = Math.floor((n - pos) / block);
    if (blocks > 0) {
      this.v.compress(this.state, bytes, pos, blocks);
      pos += blocks * block;
    }
    if (pos < n) {
      this.tail.set(bytes.subarray(pos), 0);
      this.tailLength = n - pos;
    }
    this.length += n;
  }

  digest(): Digest {
    const { block, lengthField, compress } = this.v;
    const state = this.state.slice();
    // Padding (FIPS 180-4 §5.1): 0x80, zeros, then the message length in bits, big-endian.
    const needed = this.tailLength + 1 + lengthField;
    const padded = new Uint8Array(needed <= block ? block : 2 * block);
    padded.set(this.tail.subarray(0, this.tailLength));
    padded[this.tailLength] = 0x80;
    const end = padded.length;
    // Bit length = length * 8 < 2^56: high word = floor(length / 2^29), low word = (length * 8) mod 2^32.
    const bitsHigh = Math.floor(this.length / 0x20000000);
    const bitsLow = (this.length * 8) >>> 0;
    writeWord(padded, end - 8, bitsHigh);
    writeWord(padded, end - 4, bitsLow);
    compress(state, padded, 0, padded.length / block);
    const out = new Uint8Array(state.length * 4);
    for (let i = 0; i < state.length; i++) writeWord(out, i * 4, state[i]!);
    return formatDigest(this.algorithm, out);
  }

  saveState(): string {
    const payload = new Uint8Array(this.v.words * 4 + this.tailLength);
    for (let i = 0; i < this.v.words; i++) writeWord(payload, i * 4, this.state[i]!);
    payload.set(this.tail.subarray(0, this.tailLength), this.v.words * 4);
    const body = `${STATE_VERSION}.${this.algorithm}.${this.length}.${toBase64(payload)}`;
    return `${body}.${checksum(body)}`;
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  if (!ArrayBuffer.isView(view)) throw new TypeError("hash input must be a Uint8Array");
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = word >>> 16;
  out[at + 2] = word >>> 8;
  out[at + 3] = word;
}

/** Tag of the saved-state format: `v1.<algorithm>.<length>.<base64 words+tail>.<fnv1a hex>`. */
const STATE_VERSION = "v1";

/** FNV-1a (32-bit) of the UTF-16 code units of `s`, as 8 hex digits: catches truncated or edited states. */
function checksum(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return toHex(new Uint8Array([h >>> 24, h >>> 16, h >>> 8, h]));
}

/**
 * A new, empty incremental hash. Spec: FIPS 180-4; digests as in image-spec "Descriptor" § Digests.
 */
export function createHash(algorithm: DigestAlgorithm): ResumableHash {
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new OciError("DIGEST_INVALID", { detail: { reason: `unsupported algorithm ${String(algorithm)}` } });
  }
  return new Sha2(algorithm);
}

/**
 * The hash that `saveState()` described, ready to continue. Throws `OciError("BLOB_UPLOAD_INVALID")` on a
 * corrupt or foreign state string (wrong format, version, algorithm, checksum, length or tail size).
 * Spec: distribution-spec "Pushing a blob in chunks" (the upload's state is carried between requests).
 */
export function restoreHash(state: string): ResumableHash {
  const fail = (reason: string): OciError =>
    new OciError("BLOB_UPLOAD_INVALID", { detail: { reason: `hash state ${reason}` } });
  if (typeof state !== "string" || state.length > 1024) throw fail("is not a saved hash state");
  const parts = state.split(".");
  if (parts.length !== 5) throw fail("is not a saved hash state");
  const [version, algorithm, lengthText, payloadText, sum] = parts as [string, string, string, string, string];
  if (version !== STATE_VERSION) throw fail(`has unknown version ${version}`);
  if (algorithm !== "sha256" && algorithm !== "sha512") throw fail(`has unknown algorithm ${algorithm}`);
  if (checksum(state.slice(0, state.length - sum.length - 1)) !== sum) throw fail("fails its checksum");
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(lengthText)) throw fail("has an invalid length");
  const length = Number(lengthText);
  if (!Number.isSafeInteger(length)) throw fail("has an invalid length");
  const payload = fromBase64(payloadText);
  const v = VARIANTS[algorithm];
  if (!payload || payload.length !== v.words * 4 + (length % v.block)) throw fail("has a payload of the wrong size");
  const words = new Int32Array(v.words);
  for (let i = 0; i < v.words; i++) {
    const j = i * 4;
    words[i] = (payload[j]! << 24) | (payload[j + 1]! << 16) | (payload[j + 2]! << 8) | payload[j + 3]!;
  }
  return new Sha2(algorithm, words, payload.subarray(v.words * 4), length);
}
