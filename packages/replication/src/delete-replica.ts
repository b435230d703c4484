/**
 * Replicated deletions: removes a reference from a target. Distribution deletes manifests by digest only, so a tag
 * is first resolved to its digest. Spec: distribution-spec "Deleting tags", "Deleting Manifests".
 */
import { digestOf, isDigest, MANIFEST_MEDIA_TYPES } from "@registry/core";
import { TargetClient } from "./target-client";
import type { TargetRegistry } from "./types";

/** What `deleteReplica` needs: the target, the repository's name there and a tag or digest. */
export interface DeleteReplicaRequest {
  target: TargetRegistry;
  repository: string;
  reference: string;
  /** The fetch to use (tests, service bindings); default global fetch. */
  fetch?: typeof fetch;
}

/**
 * Deletes `reference` (a tag or a digest) of `repository` on the target: the manifest it names, by digest. Returns
 * false when the target does not have it. Throws ReplicationError for any other failure (e.g. 405 UNSUPPORTED
 * when the target does not allow deletion).
 */
export async function deleteReplica(req: DeleteReplicaRequest): Promise<boolean> {
  const client = new TargetClient(req.target, req.fetch);
  const name = req.repository;
  const scopes = [`repository:${name}:pull,push,delete`];
  let digest: string | null = req.reference;
  if (!isDigest(digest)) {
    const res = await client.send({
      method: "GET",
      path: `/v2/${name}/manifests/${req.reference}`,
      scopes,
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(", ") },
      ok: [200, 404],
      step: `resolve tag ${req.reference} of ${name}`,
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return false;
    }
    digest = res.headers.get("Docker-Content-Digest");
    if (digest) await res.body?.cancel();
    else digest = await digestOf("sha256", new Uint8Array(await res.arrayBuffer()));
  }
  const res = await client.send({
    method: "DELETE",
    path: `/v2/${name}/manifests/${digest}`,
    scopes,
    ok: [200, 202, 404],
    step: `delete manifest ${digest} (${req.reference}) from ${name}`,
  });
  await res.body?.cancel();
  return res.status !== 404;
}
