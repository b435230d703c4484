/**
 * `@registry/replication`: copies a manifest (image, index with its children, or any artifact), its blobs and
 * its referrer tree from this registry's storage to another OCI registry over HTTP (issue 11 §1).
 */
export type { ReplicateReport, ReplicateRequest, SourceBlob, SourceManifest, SourceReader, TargetRegistry } from "./types";
export type { DeleteReplicaRequest } from "./delete-replica";
export { deleteReplica } from "./delete-replica";
export { replicate } from "./replicate";
export { ReplicationError } from "./target-client";
export { referrersTag } from "./tag-schema";
