import type { RegistryStores } from "./ports";
import { R2BlobStore } from "./r2-blob-store";
import { R2ManifestStore } from "./r2-manifest-store";
import { R2UploadStore } from "./r2-upload-store";

/** All registry stores over one R2 bucket (layout: ../STORAGE.md). */
export function createR2Stores(bucket: R2Bucket): RegistryStores {
  return {
    blobs: new R2BlobStore(bucket),
    uploads: new R2UploadStore(bucket),
    manifests: new R2ManifestStore(bucket),
  };
}
