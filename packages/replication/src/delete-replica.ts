import type { TargetRegistry } from "./types";

/** What `deleteReplica` needs: the target, the repository's name there and a tag or digest. */
export interface DeleteReplicaRequest {
  target: TargetRegistry;
  repository: string;
  reference: string;
  fetch?: typeof fetch;
}

/** Deletes a reference from the target; false when it is absent. (Stub: filled in shortly.) */
export async function deleteReplica(_req: DeleteReplicaRequest): Promise<boolean> {
  throw new Error("deleteReplica: not implemented yet");
}
