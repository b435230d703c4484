import {
  BoundedMap,
  cosignSubject,
  CosignTypes,
  digestOf,
  matchesRepositoryPattern,
  OciError,
  parseManifest,
  parseTag,
  readBounded,
  verifyCosign,
  type Digest,
  type Manifest,
  type Reference,
  type RepositoryName,
  type TrustedKey,
} from "@registry/core";
import type { ManifestContent, ManifestParents, ReadStores, SignaturePolicy } from "@registry/storage";
import type { ReadDeps } from "./context";

/**
 * The verified-signature pull policy (README "Signature policy"): a manifest GET in a repository that an
 * enforced policy covers is refused (403 DENIED naming the policy) unless the manifest carries a cosign
 * signature that verifies with one of the policy's keys: its payload names this very digest and the ECDSA
 * signature over it checks out (core's verifyCosign). Signatures are looked for where cosign puts them: the
 * `sha256-<hex>.sig` tag and OCI 1.1 referrers of artifactType application/vnd.dev.cosign.artifact.sig.v1+json.
 * A manifest that an index of the same repository lists is allowed when that index is validly signed (a runtime
 * pulls a platform's manifest by digest after resolving the signed index). Signature objects and other referrers
 * stay readable (HEAD, tag lists and the referrers API are never checked), so `cosign verify` and
 * `oras discover` still work. Audit-mode policies (`enforce` false) are checked and logged, never refused.
 */

/** Positive verifications (repository, digest, key set), per isolate: a new signature is looked for at once. */
const verified = new BoundedMap<string, true>(10_000);
/** Hashes of key sets, by their PEMs (a handful of policies: small). */
const keySetHashes = new BoundedMap<string, Promise<string>>(256);

/** The most signature manifests looked at for one digest (tag + referrers), and index parents for one child. */
const MAX_SIGNATURES = 20;
const MAX_PARENTS = 10;
/** A simple-signing payload is a few hundred bytes; anything much larger is not one. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * Throws DENIED when an enforced signature policy covers `repository` and `content` (read through `ref`) has no
 * valid signature from its keys. Without policies for the repository it costs one cached read of the rules.
 */
export async function checkSignaturePolicy(
  repository: RepositoryName,
  ref: Reference,
  content: ManifestContent,
  { policy, stores }: Pick<ReadDeps, "policy" | "stores">,
): Promise<void> {
  if (!policy) return;
  const policies = (await policy.signaturePolicies()).filter((p) => matchesRepositoryPattern(p.repository, repository));
  if (policies.length === 0 || isSignatureObject(ref, content)) return;
  for (const p of policies) {
    if (await isSigned(stores, repository, content.digest, p.keys, 1)) continue;
    if (!p.enforce) {
      console.log(JSON.stringify({ event: "signature-policy-audit", policy: p.id, repository, digest: content.digest }));
      continue;
    }
    throw unsigned(p, repository, content.digest);
  }
}

/** The 403 a refused pull answers, naming the policy (its id and repository pattern). */
function unsigned(p: SignaturePolicy, repository: RepositoryName, digest: Digest): OciError {
  return new OciError("DENIED", {
    message: `signature policy ${p.id} (${p.repository}) requires a valid cosign signature by one of its ${p.keys.length} trusted key(s); ${repository}@${digest} has none`,
    detail: { policy: p.id, pattern: p.repository, repository, digest },
  });
}

/**
 * What a policy never blocks: cosign's own tags (`sha256-<hex>.sig|.att|.sbom`), referrers (a manifest with a
 * `subject`) and signature manifests (artifactType or config media type cosign's signature type, or only
 * simple-signing layers: what the `.sig` tag points at, fetched by digest).
 */
function isSignatureObject(ref: Reference, content: ManifestContent): boolean {
  if (ref.kind === "tag" && cosignSubject(ref.tag)) return true;
  const manifest = parse(content);
  if (!manifest) return false;
  if (manifest.subject || manifest.artifactType === CosignTypes.signatureArtifact) return true;
  if (manifest.kind !== "image") return false;
  if (manifest.config.mediaType === CosignTypes.signatureArtifact) return true;
  // A tag-scheme signature fetched by digest: every layer a simple-signing payload (JSON, never a filesystem).
  return manifest.layers.length > 0 && manifest.layers.every((l) => l.mediaType === CosignTypes.simpleSigning);
}

/** Is `digest` validly signed by one of `keys`, directly or (up to `parentDepth` levels) through an index listing it? */
async function isSigned(stores: ReadStores, repository: RepositoryName, digest: Digest, keys: readonly TrustedKey[], parentDepth: number): Promise<boolean> {
  const cacheKey = `${repository}@${digest}#${await keySetHash(keys)}`;
  if (verified.has(cacheKey)) return true;
  let ok = await hasValidSignature(stores, repository, digest, keys);
  if (!ok && parentDepth > 0 && "parents" in stores.manifests) {
    const parents = await (stores.manifests as unknown as ManifestParents).parents(repository, digest, MAX_PARENTS);
    for (const parent of parents) {
      if (await isSigned(stores, repository, parent, keys, parentDepth - 1)) {
        ok = true;
        break;
      }
    }
  }
  if (ok) verified.set(cacheKey, true);
  return ok;
}

/** Looks at the `.sig` tag and the signature referrers of `digest`: does one of their layers verify? */
async function hasValidSignature(stores: ReadStores, repository: RepositoryName, digest: Digest, keys: readonly TrustedKey[]): Promise<boolean> {
  for await (const signature of signatureManifests(stores, repository, digest)) {
    if (await signatureVerifies(stores, repository, digest, signature, keys)) return true;
  }
  return false;
}

/**
 * Does one simple-signing layer of the signature manifest `signature` verify for `digest` with one of `keys`
 * (its payload names `digest`, the ECDSA signature checks out)? False for anything else; throws only on storage
 * failures. The pull policy above and the web page's "verified" mark share this one check.
 */
export async function signatureVerifies(
  stores: ReadStores,
  repository: RepositoryName,
  digest: Digest,
  signature: Manifest,
  keys: readonly TrustedKey[],
): Promise<boolean> {
  for (const layer of signature.kind === "image" ? signature.layers : []) {
    const sig = layer.annotations?.[CosignTypes.signatureAnnotation];
    if (layer.mediaType !== CosignTypes.simpleSigning || sig === undefined || layer.size > MAX_PAYLOAD_BYTES) continue;
    const blob = await stores.blobs.open(repository, layer.digest);
    if (!blob) continue;
    const payload = await readBounded({ headers: new Headers(), body: await blob.read() }, MAX_PAYLOAD_BYTES);
    if (payload && (await verifyCosign(payload, sig, keys, digest)).ok) return true;
  }
  return false;
}

/** The signature manifests of `digest`: the tag-scheme `sha256-<hex>.sig`, then the cosign signature referrers. */
async function* signatureManifests(stores: ReadStores, repository: RepositoryName, digest: Digest): AsyncGenerator<Manifest> {
  const tagged = digest.startsWith("sha256:")
    ? await stores.manifests.get(repository, { kind: "tag", tag: parseTag(`${digest.replace(":", "-")}.sig`) })
    : null;
  const fromTag = tagged ? parse(tagged) : null;
  if (fromTag) yield fromTag;
  const referrers = await stores.manifests.listReferrers(repository, digest, MAX_SIGNATURES);
  for (const r of referrers.items) {
    if (r.artifactType !== CosignTypes.signatureArtifact) continue;
    const content = await stores.manifests.get(repository, { kind: "digest", digest: r.digest });
    const manifest = content ? parse(content) : null;
    if (manifest) yield manifest;
  }
}

function parse(content: ManifestContent): Manifest | null {
  try {
    return parseManifest(content.bytes, content.mediaType);
  } catch {
    return null;
  }
}

/** A short stable name of a key set (SHA-256 of its keys in order), for the cache key. */
function keySetHash(keys: readonly TrustedKey[]): Promise<string> {
  const text = keys.map((k) => `${k.kind}:${k.pem.trim()}`).join("\n");
  let hash = keySetHashes.get(text);
  if (!hash) {
    hash = digestOf("sha256", new TextEncoder().encode(text)).then((d) => d.slice(7, 39));
    keySetHashes.set(text, hash);
  }
  return hash;
}
