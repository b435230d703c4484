import { BoundedMap } from "./bounded-map";
import { fromBase64 } from "./encoding";

/**
 * Verifying cosign signatures (sigstore/cosign, "key-based signing"): a signature is the base64 of an ASN.1 DER
 * ECDSA signature, with SHA-256, over the bytes of a "simple signing" JSON payload that names the signed
 * manifest's digest (`critical.image.docker-manifest-digest`). Keys are cosign's public keys: PEM "PUBLIC KEY"
 * (SPKI) of an ECDSA P-256 key, as `cosign generate-key-pair` writes cosign.pub. WebCrypto only (`crypto.subtle`,
 * in Node 20 and workerd alike); no certificates, no transparency log (keyless signing is not supported).
 */

/** Media types and names of cosign's signature objects. */
export const CosignTypes = {
  /** The signature manifest's layer: the simple-signing payload. */
  simpleSigning: "application/vnd.dev.cosign.simplesigning.v1+json",
  /** The layer annotation that holds the base64 signature. */
  signatureAnnotation: "dev.cosignproject.cosign/signature",
  /** The artifactType (or config media type) of a signature stored as an OCI 1.1 referrer. */
  signatureArtifact: "application/vnd.dev.cosign.artifact.sig.v1+json",
  /** The payload's `critical.type`. */
  payloadType: "cosign container image signature",
} as const;

/**
 * A key a signature policy trusts. `kind` says which signature format it verifies: only cosign's for now; another
 * kind (e.g. Notation, with an X.509 certificate) is another member of this union and another verifier.
 */
export type TrustedKey = { kind: "cosign"; pem: string };

/** The facts of a simple-signing payload that verification reads. */
export interface SimpleSigningPayload {
  /** `critical.identity.docker-reference` (the image name the signer gave; informational here). */
  dockerReference: string;
  /** `critical.image.docker-manifest-digest`: the manifest the signature is for. */
  manifestDigest: string;
}

/** The outcome of checking one signature: `keyIndex` is the index, in the given keys, of the key that verified it. */
export interface SignatureVerdict {
  ok: boolean;
  keyIndex?: number;
  /** Why it does not count (or "verified"), for logs and error details. */
  reason: string;
}

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const PEM = /^-----BEGIN PUBLIC KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----\s*$/;

/**
 * The WebCrypto key of a cosign public key (PEM "PUBLIC KEY" holding the SPKI of an ECDSA P-256 key). Throws an
 * Error saying what is wrong when the text is not such a key (another armour, another curve or algorithm).
 */
export async function parseCosignPublicKey(pem: string): Promise<CryptoKey> {
  const body = PEM.exec(pem.trim())?.[1];
  const der = body === undefined ? undefined : fromBase64(body.replace(/\s+/g, ""));
  if (!der) throw new Error('not a PEM public key ("-----BEGIN PUBLIC KEY-----" … base64 SPKI)');
  try {
    return await crypto.subtle.importKey("spki", der, ECDSA_P256, true, ["verify"]);
  } catch {
    throw new Error("not an ECDSA P-256 public key (cosign keys are ECDSA P-256)");
  }
}

/**
 * The simple-signing payload's facts, or null when the bytes are not one: JSON with `critical.type` cosign's,
 * `critical.image.docker-manifest-digest` and `critical.identity.docker-reference` strings.
 */
export function parseSimpleSigning(bytes: Uint8Array): SimpleSigningPayload | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return null;
  }
  const critical = field(value, "critical");
  if (field(critical, "type") !== CosignTypes.payloadType) return null;
  const manifestDigest = field(field(critical, "image"), "docker-manifest-digest");
  const dockerReference = field(field(critical, "identity"), "docker-reference");
  if (typeof manifestDigest !== "string" || typeof dockerReference !== "string") return null;
  return { dockerReference, manifestDigest };
}

/**
 * An ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` as the fixed-size r||s (IEEE P1363) that WebCrypto verifies:
 * each integer left-padded to `size` bytes (32 for P-256). Null when the bytes are not exactly such a sequence.
 */
export function derToRawSignature(der: Uint8Array, size = 32): Uint8Array | null {
  if (der.length < 8 || der[0] !== 0x30) return null;
  let at = 1;
  const length = readLength(der, at);
  if (!length || length.end + length.value !== der.length) return null;
  at = length.end;
  const raw = new Uint8Array(size * 2);
  for (let i = 0; i < 2; i++) {
    if (der[at] !== 0x02) return null;
    const len = readLength(der, at + 1);
    if (!len || len.value === 0) return null;
    let int = der.subarray(len.end, len.end + len.value);
    if (int.length !== len.value) return null;
    while (int.length > 1 && int[0] === 0) int = int.subarray(1);
    if (int.length > size) return null;
    raw.set(int, size * (i + 1) - int.length);
    at = len.end + len.value;
  }
  return at === der.length ? raw : null;
}

/**
 * Checks a cosign signature: the payload must be simple signing for `expectedDigest`, and `signatureBase64` (DER
 * ECDSA-SHA256 over the payload bytes) must verify with one of `keys` (the first that does is `keyIndex`). Never
 * throws: a key that does not parse counts as not verifying, with its reason.
 */
export async function verifyCosign(
  payload: Uint8Array,
  signatureBase64: string,
  keys: readonly TrustedKey[],
  expectedDigest: string,
): Promise<SignatureVerdict> {
  const facts = parseSimpleSigning(payload);
  if (!facts) return { ok: false, reason: "the payload is not a cosign simple-signing payload" };
  if (facts.manifestDigest !== expectedDigest) {
    return { ok: false, reason: `the payload is for ${facts.manifestDigest}, not ${expectedDigest}` };
  }
  const der = fromBase64(signatureBase64.trim());
  const raw = der ? derToRawSignature(der) : null;
  if (!raw) return { ok: false, reason: "the signature is not base64 of a DER ECDSA P-256 signature" };
  for (const [i, key] of keys.entries()) {
    if (key.kind !== "cosign") continue;
    const imported = await importCached(key.pem);
    if (!imported) continue;
    if (await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, imported, raw, payload)) {
      return { ok: true, keyIndex: i, reason: "verified" };
    }
  }
  return { ok: false, reason: "the signature verifies with none of the trusted keys" };
}

/** Keys imported once per isolate (importKey is not free, and a policy's keys are checked on every verification). */
const imported = new BoundedMap<string, Promise<CryptoKey | null>>(256);

function importCached(pem: string): Promise<CryptoKey | null> {
  let key = imported.get(pem);
  if (!key) {
    key = parseCosignPublicKey(pem).catch(() => null);
    imported.set(pem, key);
  }
  return key;
}

/** A DER length at `at`: its value and where the content starts; null when malformed or over 2 length bytes. */
function readLength(der: Uint8Array, at: number): { value: number; end: number } | null {
  const first = der[at];
  if (first === undefined) return null;
  if (first < 0x80) return { value: first, end: at + 1 };
  const n = first & 0x7f;
  if (n === 0 || n > 2 || at + n >= der.length) return null;
  let value = 0;
  for (let i = 1; i <= n; i++) value = value * 256 + der[at + i]!;
  return { value, end: at + 1 + n };
}

function field(v: unknown, name: string): unknown {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[name] : undefined;
}
