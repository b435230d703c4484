import {
  artifactTypeOf,
  digestAlgorithm,
  digestOf,
  isManifestMediaType,
  isOciError,
  MANIFEST_MEDIA_TYPES,
  matchesRepositoryPattern,
  MAX_MANIFEST_BYTES,
  OciError,
  parseManifest,
  parseReference,
  referencedBlobs,
  type Descriptor,
  type Manifest,
  type Reference,
  type RepositoryName,
} from "@registry/core";
import type { ManifestWriter, ManifestWrite, PolicyStore, ProtectedTags, References } from "@registry/storage";
import type { Handler, ReadDeps } from "../context";
import { readLimited } from "../http";
import { checkSignaturePolicy } from "../signature-gate";

/**
 * `GET|HEAD /v2/<name>/manifests/<reference>` — the exact bytes pushed (spec §"Pulling manifests"). A tag that
 * cannot exist (bad characters, leading `.` or `-`, over 128 characters) names nothing: 404 MANIFEST_UNKNOWN, as
 * distribution answers (and the conformance suite asks); a malformed digest stays 400 DIGEST_INVALID. A GET under
 * an enforced signature policy needs a valid signature (signature-gate.ts: 403 DENIED naming the policy); a HEAD never.
 */
export const getManifest: Handler<ReadDeps> = async ({ repository, params, head }, deps) => {
  const { stores } = deps;
  const ref = referenceToRead(params.reference ?? "");
  const content = head ? null : await stores.manifests.get(repository, ref);
  const found = head ? await stores.manifests.stat(repository, ref) : content;
  if (!found) throw manifestUnknown(params.reference);
  if (content) await checkSignaturePolicy(repository, ref, content, deps);
  const headers = {
    "Content-Type": found.mediaType,
    "Content-Length": String(found.size),
    "Docker-Content-Digest": found.digest,
    ETag: `"${found.digest}"`,
  };
  return new Response(content?.bytes ?? null, { headers });
};

/**
 * `PUT /v2/<name>/manifests/<reference>` — a manifest media type as Content-Type (the body's `mediaType`, when
 * present, must agree), validated through core; every referenced blob and child manifest must be in the
 * repository with the size its descriptor says (a subject may be missing: spec MUST). Only then is it stored, by
 * digest then tag, so a refused manifest leaves nothing behind (spec §"Pushing manifests", §"… with subject");
 * storage checks the references again as it stores (garbage collection may have swept one meanwhile).
 */
export const putManifest: Handler = async ({ request, repository, params }, { stores, policy }) => {
  const ref = parseReference(params.reference ?? "");
  const contentType = manifestContentType(request);
  const bytes = await readLimited(request, MAX_MANIFEST_BYTES);
  const manifest = parseManifest(bytes, contentType);
  const algorithm = ref.kind === "digest" ? digestAlgorithm(ref.digest) : "sha256";
  const digest = await digestOf(algorithm, bytes);
  if (ref.kind === "digest" && ref.digest !== digest) {
    throw new OciError("DIGEST_INVALID", { detail: { expected: ref.digest, actual: digest } });
  }
  const references = await checkReferences(repository, manifest, stores.manifests);

  const write: ManifestWrite = { digest, mediaType: manifest.mediaType, size: bytes.byteLength, bytes, references };
  if (manifest.subject) {
    const referrer: Descriptor = { mediaType: manifest.mediaType, digest, size: bytes.byteLength };
    const artifactType = artifactTypeOf(manifest);
    if (artifactType) referrer.artifactType = artifactType;
    if (manifest.annotations) referrer.annotations = manifest.annotations;
    write.subject = manifest.subject.digest;
    write.referrer = referrer;
  }
  const tag = ref.kind === "tag" ? ref.tag : undefined;
  await stores.manifests.put(repository, write, tag, tag ? await protectedTags(policy, repository) : undefined);

  const headers: Record<string, string> = {
    Location: `/v2/${repository}/manifests/${digest}`,
    "Docker-Content-Digest": digest,
    "Content-Length": "0",
  };
  if (manifest.subject) headers["OCI-Subject"] = manifest.subject.digest;
  return new Response(null, { status: 201, headers });
};

/** `DELETE /v2/<name>/manifests/<reference>` — a tag, or a manifest with all its tags (spec §"Deleting tags"/"manifests"). */
export const deleteManifest: Handler = async ({ repository, params }, { stores, policy }) => {
  const ref = parseReference(params.reference ?? "");
  const protect = await protectedTags(policy, repository);
  const deleted =
    ref.kind === "tag"
      ? await stores.manifests.deleteTag(repository, ref.tag, protect)
      : await stores.manifests.deleteManifest(repository, ref.digest, protect);
  if (!deleted) throw manifestUnknown(params.reference);
  return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
};

/**
 * The request's Content-Type, which must be one of the four manifest media types (parameters allowed). Any other
 * or none is MANIFEST_INVALID, as distribution v3 answers ("unsupported manifest media type"): docker, containerd,
 * skopeo/podman, crane, oras and helm all send the manifest's own media type.
 */
function manifestContentType(request: Request): string {
  const contentType = request.headers.get("Content-Type");
  if (contentType === null || !isManifestMediaType(contentType)) {
    throw new OciError("MANIFEST_INVALID", {
      detail: { reason: "Content-Type must be a manifest media type", contentType, accepted: MANIFEST_MEDIA_TYPES },
    });
  }
  return contentType;
}

/**
 * What `manifest` references must be in the repository: every blob and child manifest (else MANIFEST_BLOB_UNKNOWN
 * listing them), each of the size its descriptor gives (else MANIFEST_INVALID naming the digest and both sizes).
 * One question to storage for all of them.
 */
async function checkReferences(repository: RepositoryName, manifest: Manifest, manifests: ManifestWriter): Promise<References> {
  const refs = referencedBlobs(manifest);
  const digests = (ds: Descriptor[]) => ds.map((d) => d.digest);
  const references = { blobs: digests(refs.blobs), manifests: digests(refs.manifests) };
  const sizes = await manifests.storedSizes(repository, references);
  const stored = [
    ...refs.blobs.map((d, i) => ({ d, size: sizes.blobs[i] ?? null })),
    ...refs.manifests.map((d, i) => ({ d, size: sizes.manifests[i] ?? null })),
  ];
  const unknown = stored.filter((s) => s.size === null).map((s) => s.d.digest);
  if (unknown.length > 0) throw new OciError("MANIFEST_BLOB_UNKNOWN", { detail: { digests: unknown } });
  const wrong = stored.find((s) => s.size !== s.d.size);
  if (wrong) {
    const { digest, size } = wrong.d;
    throw new OciError("MANIFEST_INVALID", {
      detail: { reason: "descriptor size differs from the stored content's", digest, descriptorSize: size, storedSize: wrong.size },
    });
  }
  return references;
}

/** The immutable-tag rules whose repository pattern matches `repository` (none without a policy). */
async function protectedTags(policy: PolicyStore | undefined, repository: RepositoryName): Promise<ProtectedTags> {
  if (!policy) return [];
  return (await policy.immutableRules()).filter((r) => matchesRepositoryPattern(r.repository, repository));
}

/** The reference of a read: parsed like any other, except that a tag that cannot exist is simply not there. */
function referenceToRead(reference: string): Reference {
  try {
    return parseReference(reference);
  } catch (e) {
    if (isOciError(e) && e.code === "MANIFEST_INVALID") throw manifestUnknown(reference);
    throw e;
  }
}

function manifestUnknown(reference: string | undefined): OciError {
  return new OciError("MANIFEST_UNKNOWN", { detail: { reference } });
}
