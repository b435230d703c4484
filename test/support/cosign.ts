/**
 * Cosign signatures in cosign's real format, made in the test (cosign itself cannot be installed here), and the
 * requests that put them in a registry: the `sha256-<hex>.sig` tag (cosign's tag scheme) and the OCI 1.1
 * referrer (`artifactType` application/vnd.dev.cosign.artifact.sig.v1+json with a `subject`), plus an SBOM
 * attached as `oras attach` does and a signature of it. WebCrypto and fetch only: runs in Node and in workerd.
 *
 * The format (sigstore/cosign, pkg/oci/static and pkg/cosign/payload): a "simple signing" JSON payload naming
 * the image's manifest digest is the signature manifest's one layer (media type
 * application/vnd.dev.cosign.simplesigning.v1+json); the layer's annotation `dev.cosignproject.cosign/signature`
 * is the base64 of an ASN.1 DER ECDSA P-256 signature over the payload's bytes with SHA-256 — what
 * `openssl dgst -sha256 -sign key.pem` writes too.
 */

export const COSIGN = {
  /** The signature manifest's layer: the simple-signing payload. */
  SIMPLE_SIGNING: "application/vnd.dev.cosign.simplesigning.v1+json",
  /** The layer annotation holding the base64 DER signature. */
  SIGNATURE_ANNOTATION: "dev.cosignproject.cosign/signature",
  /** artifactType of a signature stored as an OCI 1.1 referrer. */
  SIG_ARTIFACT_TYPE: "application/vnd.dev.cosign.artifact.sig.v1+json",
  OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
  OCI_CONFIG: "application/vnd.oci.image.config.v1+json",
  EMPTY: "application/vnd.oci.empty.v1+json",
} as const;

/** Where to push: the registry's base URL, and how requests are sent and authorized. */
export interface RegistryTarget {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  baseUrl: string;
  /** Headers for every request to `repository` (e.g. a bearer token), or a function giving them. */
  auth?: Record<string, string> | ((repository: string) => Promise<Record<string, string>> | Record<string, string>);
  /** The fetch to use (default: global fetch); a workerd test passes `SELF.fetch`. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** An ECDSA P-256 key pair and its public key as cosign's PEM ("PUBLIC KEY", SPKI). */
export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  pem: string;
}

/** What a push made: the pushed manifest's digest (and the tag it went under, for the tag scheme). */
export interface Pushed {
  digest: string;
  tag?: string;
}

const ECDSA = { name: "ECDSA", namedCurve: "P-256" } as const;
const encoder = new TextEncoder();

/** A fresh ECDSA P-256 key pair, as `cosign generate-key-pair` makes (its public half as PEM). */
export async function generateKey(): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey(ECDSA, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, pem: toPem(spki, "PUBLIC KEY") };
}

/** PEM armour of DER bytes (64 base64 characters a line). */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = toBase64(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** cosign's simple-signing payload for `digest`, as the exact bytes cosign signs and pushes. */
export function simpleSigningPayload(digest: string, dockerReference: string): Uint8Array {
  const payload = {
    critical: {
      identity: { "docker-reference": dockerReference },
      image: { "docker-manifest-digest": digest },
      type: "cosign container image signature",
    },
    optional: null,
  };
  return encoder.encode(JSON.stringify(payload));
}

/** The base64 ASN.1 DER ECDSA-SHA256 signature of `payload`: cosign's annotation value. */
export async function signPayload(key: SigningKey, payload: Uint8Array): Promise<string> {
  const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, payload));
  return toBase64(rawToDer(raw));
}

/** WebCrypto's r||s (IEEE P1363) as an ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = bytes.subarray(i);
    const padded = trimmed[0]! & 0x80 ? [0, ...trimmed] : [...trimmed];
    return [0x02, padded.length, ...padded];
  };
  const body = [...integer(raw.subarray(0, half)), ...integer(raw.subarray(half))];
  return new Uint8Array([0x30, body.length, ...body]);
}

export interface SignOptions {
  /** The digest the payload names (default: the signed manifest's own; another one makes a signature that must not count). */
  payloadDigest?: string;
  /** The payload's docker-reference (default `<host>/<repository>`). */
  dockerReference?: string;
}

/**
 * Signs `digest` (a manifest of `repository`) as `cosign sign --key` does with its default tag scheme: the
 * payload blob, cosign's config blob and the signature manifest under the tag `sha256-<hex>.sig`. Like cosign,
 * it replaces whatever that tag held (one signature a push; cosign itself appends layers).
 */
export async function pushSignatureTag(
  target: RegistryTarget,
  repository: string,
  digest: string,
  key: SigningKey,
  opts: SignOptions = {},
): Promise<Pushed> {
  const layer = await signatureLayer(target, repository, digest, key, opts);
  const config = encoder.encode(
    JSON.stringify({
      architecture: "",
      created: "0001-01-01T00:00:00Z",
      history: [{ created: "0001-01-01T00:00:00Z" }],
      os: "",
      rootfs: { type: "layers", diff_ids: [layer.digest] },
      config: {},
    }),
  );
  const configDesc = await pushBlob(target, repository, config, COSIGN.OCI_CONFIG);
  const manifest = { schemaVersion: 2, mediaType: COSIGN.OCI_MANIFEST, config: configDesc, layers: [layer] };
  const tag = `${digest.replace(":", "-")}.sig`;
  return { ...(await pushManifest(target, repository, tag, manifest)), tag };
}

/**
 * Signs `digest` as cosign does with `--registry-referrers-mode=oci-1-1`: the signature manifest (same layer
 * format) with artifactType application/vnd.dev.cosign.artifact.sig.v1+json, the empty config and `subject`,
 * pushed by digest: found through the referrers API.
 */
export async function pushSignatureReferrer(
  target: RegistryTarget,
  repository: string,
  digest: string,
  key: SigningKey,
  opts: SignOptions = {},
): Promise<Pushed> {
  const subject = await describe(target, repository, digest);
  const layer = await signatureLayer(target, repository, digest, key, opts);
  const manifest = {
    schemaVersion: 2,
    mediaType: COSIGN.OCI_MANIFEST,
    artifactType: COSIGN.SIG_ARTIFACT_TYPE,
    config: await emptyConfig(target, repository),
    layers: [layer],
    subject,
    annotations: { "org.opencontainers.image.created": new Date().toISOString() },
  };
  return pushManifest(target, repository, undefined, manifest);
}

/**
 * Attaches a file to `digest` as `oras attach --artifact-type <type> <ref> file` does: an artifact manifest
 * with that artifactType, the empty config, the file as its one layer (titled) and `subject`.
 */
export async function attachArtifact(
  target: RegistryTarget,
  repository: string,
  digest: string,
  file: { artifactType: string; content: string | Uint8Array; name?: string; mediaType?: string },
): Promise<Pushed> {
  const subject = await describe(target, repository, digest);
  const bytes = typeof file.content === "string" ? encoder.encode(file.content) : file.content;
  const layer = await pushBlob(target, repository, bytes, file.mediaType ?? "application/vnd.oci.image.layer.v1.tar");
  const manifest = {
    schemaVersion: 2,
    mediaType: COSIGN.OCI_MANIFEST,
    artifactType: file.artifactType,
    config: await emptyConfig(target, repository),
    layers: [{ ...layer, annotations: { "org.opencontainers.image.title": file.name ?? "sbom.spdx.json" } }],
    subject,
    annotations: { "org.opencontainers.image.created": new Date().toISOString() },
  };
  return pushManifest(target, repository, undefined, manifest);
}

/** An SPDX SBOM attached to `digest` (artifactType application/spdx+json), as `oras attach` pushes one. */
export function attachSbom(target: RegistryTarget, repository: string, digest: string): Promise<Pushed> {
  const sbom = JSON.stringify({ spdxVersion: "SPDX-2.3", SPDXID: "SPDXRef-DOCUMENT", name: `sbom of ${digest}`, packages: [] });
  return attachArtifact(target, repository, digest, { artifactType: "application/spdx+json", content: sbom, mediaType: "application/spdx+json" });
}

/** Everything issue 11 §3 asks for on one image: signed both ways, an SBOM attached, the SBOM signed (as a referrer). */
export async function signWithSbom(
  target: RegistryTarget,
  repository: string,
  digest: string,
  key: SigningKey,
): Promise<{ tag: Pushed; referrer: Pushed; sbom: Pushed; sbomSignature: Pushed }> {
  const tag = await pushSignatureTag(target, repository, digest, key);
  const referrer = await pushSignatureReferrer(target, repository, digest, key);
  const sbom = await attachSbom(target, repository, digest);
  const sbomSignature = await pushSignatureReferrer(target, repository, sbom.digest, key);
  return { tag, referrer, sbom, sbomSignature };
}

/** The sha256 digest of bytes, as `sha256:<hex>`. */
export async function sha256Digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The payload blob pushed, and its descriptor with the signature annotation. */
async function signatureLayer(target: RegistryTarget, repository: string, digest: string, key: SigningKey, opts: SignOptions): Promise<Desc> {
  const reference = opts.dockerReference ?? `${new URL(target.baseUrl).host}/${repository}`;
  const payload = simpleSigningPayload(opts.payloadDigest ?? digest, reference);
  const signature = await signPayload(key, payload);
  const desc = await pushBlob(target, repository, payload, COSIGN.SIMPLE_SIGNING);
  return { ...desc, annotations: { [COSIGN.SIGNATURE_ANNOTATION]: signature } };
}

async function emptyConfig(target: RegistryTarget, repository: string): Promise<Desc> {
  return pushBlob(target, repository, encoder.encode("{}"), COSIGN.EMPTY);
}

async function send(target: RegistryTarget, repository: string, path: string, init: RequestInit = {}): Promise<Response> {
  const auth = typeof target.auth === "function" ? await target.auth(repository) : (target.auth ?? {});
  const url = path.startsWith("http") ? path : `${target.baseUrl}${path}`;
  const headers = { ...auth, ...(init.headers as Record<string, string> | undefined) };
  const doFetch = target.fetch ?? ((u: string, i: RequestInit) => fetch(u, i));
  return doFetch(url, { ...init, headers });
}

/** Pushes a blob in one request (POST ?digest=); its descriptor. */
async function pushBlob(target: RegistryTarget, repository: string, bytes: Uint8Array, mediaType: string): Promise<Desc> {
  const digest = await sha256Digest(bytes);
  const res = await send(target, repository, `/v2/${repository}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { "Content-Type": "application/octet-stream", "Content-Length": String(bytes.byteLength) },
    body: bytes,
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`push blob ${digest} to ${repository}: ${res.status}`);
  return { mediaType, digest, size: bytes.byteLength };
}

async function pushManifest(target: RegistryTarget, repository: string, tag: string | undefined, manifest: object): Promise<Pushed> {
  const bytes = encoder.encode(JSON.stringify(manifest));
  const digest = await sha256Digest(bytes);
  const res = await send(target, repository, `/v2/${repository}/manifests/${tag ?? digest}`, {
    method: "PUT",
    headers: { "Content-Type": COSIGN.OCI_MANIFEST },
    body: bytes,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`push manifest ${tag ?? digest} to ${repository}: ${res.status} ${text}`);
  return { digest };
}

/** The descriptor of a manifest in the registry (HEAD: media type and size), for a `subject`. */
async function describe(target: RegistryTarget, repository: string, digest: string): Promise<Desc> {
  const accept = [
    COSIGN.OCI_MANIFEST,
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
  ].join(", ");
  const res = await send(target, repository, `/v2/${repository}/manifests/${digest}`, { method: "HEAD", headers: { Accept: accept } });
  if (res.status !== 200) throw new Error(`HEAD ${repository}@${digest}: ${res.status}`);
  return { mediaType: res.headers.get("content-type") ?? COSIGN.OCI_MANIFEST, digest, size: Number(res.headers.get("content-length")) };
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
