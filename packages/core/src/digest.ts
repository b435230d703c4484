/**
 * Content digests: `algorithm:encoded` strings that identify blobs and manifests.
 * Spec: OCI image-spec "Descriptor" § Digests (grammar and registered algorithms sha256 / sha512);
 * distribution-spec "Pulling blobs" / "Pushing blobs" (registries reject digests they cannot verify).
 */
import { toHex } from "./encoding";
import { OciError } from "./errors";

/** The digest algorithms this registry verifies (image-spec "Registered algorithms"). */
export type DigestAlgorithm = "sha256" | "sha512";

/** A digest string that `parseDigest` accepted: `sha256:<64 hex>` or `sha512:<128 hex>`. */
export type Digest = string & { readonly __brand: "Digest" };

/** Longest input `parseDigest` looks at; sha512 digests are 135 characters. */
const MAX_DIGEST_LENGTH = 200;

/** image-spec grammar: `algorithm-component (algorithm-separator algorithm-component)*` ":" `encoded`. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Registered algorithms and the exact shape of their encoded part (lowercase hex only, fixed length). */
const ENCODED: Readonly<Record<DigestAlgorithm, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

function invalid(s: string, reason: string): OciError {
  return new OciError("DIGEST_INVALID", { detail: { digest: s.length > MAX_DIGEST_LENGTH ? `${s.slice(0, 64)}…` : s, reason } });
}

/**
 * Parses `algorithm:encoded` per the image-spec descriptor grammar and accepts only the registered algorithms,
 * strictly: sha256 = exactly 64 lowercase hex, sha512 = exactly 128 lowercase hex.
 * Throws `OciError("DIGEST_INVALID")` (detail `{digest, reason}`) for malformed input, inputs over 200
 * characters, and grammatically valid but unsupported algorithms (`md5:…`, `sha384:…`, `multihash+base58:…`).
 * Spec: image-spec "Descriptor" § Digests.
 */
export function parseDigest(s: string): Digest {
  if (typeof s !== "string") throw invalid(String(s), "not a string");
  if (s.length > MAX_DIGEST_LENGTH) throw invalid(s, `longer than ${MAX_DIGEST_LENGTH} characters`);
  if (!DIGEST_GRAMMAR.test(s)) throw invalid(s, "not of the form algorithm:encoded");
  const colon = s.indexOf(":");
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  if (algorithm !== "sha256" && algorithm !== "sha512") throw invalid(s, `unsupported algorithm ${algorithm}`);
  if (!ENCODED[algorithm].test(encoded)) {
    const hexLength = algorithm === "sha256" ? 64 : 128;
    throw invalid(s, `${algorithm} requires exactly ${hexLength} lowercase hex characters`);
  }
  return s as Digest;
}

/** True if `parseDigest(s)` would succeed. Never throws. Spec: image-spec "Descriptor" § Digests. */
export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** The algorithm of a parsed digest (`sha256` or `sha512`). */
export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(":")) as DigestAlgorithm;
}

/** The encoded (hex) part of a parsed digest, after the colon. */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(":") + 1);
}

const SUBTLE_NAME: Readonly<Record<DigestAlgorithm, "SHA-256" | "SHA-512">> = { sha256: "SHA-256", sha512: "SHA-512" };

/**
 * The digest of `bytes` in one shot, via WebCrypto `crypto.subtle.digest` (a global in Node 20 and workerd).
 * For streamed or resumable hashing use `createHash` / `hashingStream`. Spec: image-spec § Digests.
 */
export async function digestOf(algorithm: DigestAlgorithm, bytes: Uint8Array): Promise<Digest> {
  const sum = await crypto.subtle.digest(SUBTLE_NAME[algorithm], bytes as Uint8Array<ArrayBuffer>);
  return formatDigest(algorithm, new Uint8Array(sum));
}

/**
 * The digest string of a hash function's raw output (`sum`: 32 bytes for sha256, 64 for sha512), in lowercase
 * hex — the one place digests are encoded. Spec: image-spec "Descriptor" § Digests.
 */
export function formatDigest(algorithm: DigestAlgorithm, sum: Uint8Array): Digest {
  return `${algorithm}:${toHex(sum)}` as Digest;
}
