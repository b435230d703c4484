import { Indexes, type IndexNamespaces } from "./indexes";
import { meterBucket, meterNamespace, type StorageOps } from "./metered-bucket";
import { DoManifestStore } from "./manifest-store";
import type { RegistryStores } from "./ports";
import { R2BlobStore } from "./r2-blob-store";
import { R2UploadStore } from "./r2-upload-store";

/** The stores over R2 and Durable Objects, as their classes (the mirror's cache also uses `confirmTag`). */
export interface R2Stores extends RegistryStores {
  blobs: R2BlobStore;
  uploads: R2UploadStore;
  manifests: DoManifestStore;
}

/** All registry stores: bytes in one R2 bucket, the index in Durable Objects (layout: ../STORAGE.md). */
export function createStores(bucket: R2Bucket, namespaces: IndexNamespaces): R2Stores {
  const indexes = new Indexes(namespaces);
  return {
    blobs: new R2BlobStore(bucket, indexes),
    uploads: new R2UploadStore(bucket, indexes),
    manifests: new DoManifestStore(indexes, bucket),
  };
}

/** The same stores, counting every R2 operation and index call in `ops` (for `X-Storage-Ops`). */
export function createMeteredStores(bucket: R2Bucket, namespaces: IndexNamespaces, ops: StorageOps): R2Stores {
  return createStores(meterBucket(bucket, ops), {
    repositories: meterNamespace(namespaces.repositories, ops),
    catalog: meterNamespace(namespaces.catalog, ops),
  });
}
