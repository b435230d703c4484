export type {
  BlobInfo,
  BlobReader,
  BlobStore,
  ByteRange,
  ManifestContent,
  ManifestInfo,
  ManifestReader,
  ManifestRef,
  ManifestStore,
  ManifestWrite,
  ManifestWriter,
  ImmutableRule,
  PolicyStore,
  ProtectedTags,
  MountSources,
  OpenBlob,
  Page,
  ReadStores,
  References,
  RegistryStores,
  StoredSizes,
  UploadBody,
  UploadStatus,
  UploadStore,
} from "./ports";
export { R2BlobStore } from "./r2-blob-store";
export { DoManifestStore } from "./manifest-store";
export { RepositoryIndex } from "./repository-index";
export { CatalogIndex } from "./catalog-index";
export { BlobIndex, BlobIndexes, BLOB_SHARDS, blobShard } from "./blob-index";
export { DoLifecycleJobs, LifecycleRunner } from "./lifecycle-runner";
export type { LifecycleEnv } from "./lifecycle-runner";
export { PullStats, PULL_STATS_FLUSH_MS } from "./pull-stats";
export type { PullCount, TagDetail } from "./repository-stats";
export { DoPolicyStore, RegistryPolicy, SIGNATURE_POLICY_TTL_MS } from "./registry-policy";
export type { ManifestParents, SignaturePolicy, SignaturePolicyInput } from "./signature-policy";
export { Indexes } from "./indexes";
export type { IndexNamespaces } from "./indexes";
export { R2UploadStore, PART_SIZE } from "./r2-upload-store";
export { createEdgeStores, createMeteredEdgeStores, createMeteredStores, createStores } from "./stores";
export type { EdgeIndex, R2Stores } from "./stores";
export { EdgeBlobReader, EdgeManifestReader, edgeTiming } from "./edge-stores";
export type { EdgeCacheValue, EdgeTiming } from "./edge-stores";
export { edgeKey, edgePrefixes, parseEdgeKey } from "./edge-keys";
export type { EdgeEntry, EdgeManifestMeta } from "./edge-keys";
export { IsolateCache } from "./isolate-cache";
export { formatStorageOps, meterBucket, meterKv, meterNamespace, newStorageOps } from "./metered-bucket";
export type { StorageOps } from "./metered-bucket";
export { NativeDigest, readChunks } from "./streams";
export { reconcileEdge, RECONCILE_CURSOR_KEY } from "./edge-reconcile";
export type { ReconcileReport } from "./edge-reconcile";
export { planRetention, retentionRuleProblem, rulesFor } from "./retention";
export type { RetentionRuleInput, RetentionTag } from "./retention";
export type {
  GcOptions,
  JobCounts,
  JobError,
  JobItem,
  JobKind,
  JobPhase,
  JobRun,
  LifecycleJobs,
  RetentionOptions,
  RetentionRule,
} from "./lifecycle-types";
export { DoReplicationStore, ReplicationLog } from "./replication-log";
export type {
  ReplicationExecution,
  ReplicationOutcome,
  ReplicationRule,
  ReplicationRuleInput,
  ReplicationStore,
  ReplicationTarget,
  ReplicationTrigger,
} from "./replication-log";
