export type {
  BlobContent,
  BlobInfo,
  BlobStore,
  ByteRange,
  ManifestContent,
  ManifestInfo,
  ManifestRef,
  ManifestStore,
  ManifestWrite,
  Page,
  RegistryStores,
  UploadBody,
  UploadStatus,
  UploadStore,
} from "./ports";
export { R2BlobStore } from "./r2-blob-store";
export { R2ManifestStore } from "./r2-manifest-store";
export { R2UploadStore, PART_SIZE } from "./r2-upload-store";
export { createR2Stores } from "./r2-stores";
export { formatStorageOps, meterBucket, newStorageOps } from "./metered-bucket";
export type { StorageOps } from "./metered-bucket";
