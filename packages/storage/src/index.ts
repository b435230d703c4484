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
export { CatalogIndex, RepositoryIndex } from "./repository-index";
export { Indexes } from "./indexes";
export type { IndexNamespaces } from "./indexes";
export { R2UploadStore, PART_SIZE } from "./r2-upload-store";
export { createMeteredStores, createStores } from "./stores";
export type { R2Stores } from "./stores";
export { formatStorageOps, meterBucket, meterNamespace, newStorageOps } from "./metered-bucket";
export type { StorageOps } from "./metered-bucket";
export { NativeDigest, readChunks } from "./streams";
