/**
 * The OCI referrers tag schema, for targets without a referrers API: the referrers of a subject are listed in an
 * image index tagged `<alg>-<hex>` (e.g. `sha256-<hex>`), merged with what is already there, as oras and regctl do.
 * Spec: distribution-spec "Referrers Tag Schema" and "Pushing Manifests with Subject" (the client's steps when the
 * registry does not support the referrers API).
 */
import { MediaTypes, type Descriptor } from "@registry/core";
import { TargetClient } from "./target-client";

/** The tag under which `subject`'s referrers are listed: `<alg>-<hex>`, alg cut to 32 and hex to 64 characters. */
export function referrersTag(subject: string): string {
  const [alg = "", hex = ""] = subject.split(":");
  return `${alg.slice(0, 32)}-${hex.slice(0, 64)}`;
}

/**
 * True when the target serves the referrers API for `repository`: `GET /v2/<name>/referrers/<digest>` answers 200
 * with an image index (a registry that supports it answers an empty index for an unknown subject). Anything else —
 * 404 without that index, 400, 405 — means it does not (Debian's docker-registry 2.8.2 answers 404).
 */
export async function hasReferrersApi(client: TargetClient, repository: string, subject: string): Promise<boolean> {
  const res = await client.send({
    method: "GET",
    path: `/v2/${repository}/referrers/${subject}`,
    scopes: [TargetClient.push(repository)],
    headers: { Accept: MediaTypes.ociIndex },
    ok: [200, 400, 404, 405],
    step: `ask ${repository} for referrers of ${subject}`,
  });
  if (res.status !== 200) {
    await res.body?.cancel();
    return false;
  }
  const body = await res.json<{ manifests?: unknown }>().catch(() => undefined);
  return Array.isArray(body?.manifests);
}

/**
 * Lists `referrers` in `subject`'s tag-schema index on the target: reads the index already tagged (if any), adds the
 * descriptors it lacks (by digest) and pushes it again only when something was added. Idempotent. Returns true when
 * it pushed. Throws ReplicationError for target failures.
 */
export async function listInTagSchema(client: TargetClient, repository: string, subject: string, referrers: Descriptor[]): Promise<boolean> {
  const tag = referrersTag(subject);
  const scopes = [TargetClient.push(repository)];
  const res = await client.send({
    method: "GET",
    path: `/v2/${repository}/manifests/${tag}`,
    scopes,
    headers: { Accept: MediaTypes.ociIndex },
    ok: [200, 404],
    step: `read referrers tag ${tag} of ${repository}`,
  });
  let listed: Descriptor[] = [];
  if (res.status === 200) {
    const body = await res.json<{ manifests?: unknown }>().catch(() => undefined);
    if (Array.isArray(body?.manifests)) listed = body.manifests as Descriptor[];
  } else {
    await res.body?.cancel();
  }
  const known = new Set(listed.map((d) => d.digest));
  const added = referrers.filter((d) => !known.has(d.digest) && known.add(d.digest));
  if (added.length === 0) return false;
  const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [...listed, ...added.map(referrerDescriptor)] };
  const bytes = new TextEncoder().encode(JSON.stringify(index));
  const put = await client.send({
    method: "PUT",
    path: `/v2/${repository}/manifests/${tag}`,
    scopes,
    headers: { "Content-Type": MediaTypes.ociIndex },
    body: async () => ({ body: bytes, length: bytes.length }),
    ok: [201],
    step: `push referrers tag ${tag} to ${repository}`,
  });
  await put.body?.cancel();
  return true;
}

/** A referrer as a referrers list shows it: media type, digest, size, artifactType and annotations (nothing else). */
function referrerDescriptor(d: Descriptor): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    ...(d.annotations && Object.keys(d.annotations).length > 0 ? { annotations: d.annotations } : {}),
  };
}
