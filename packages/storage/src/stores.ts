import { createEdgeReadStores, type EdgeCacheValue, type EdgeTiming } from "./edge-stores";
import { Indexes, type IndexNamespaces } from "./indexes";
import type { IsolateCache } from "./isolate-cache";
import { meterBucket, meterKv, meterNamespace, type StorageOps } from "./metered-bucket";
import { DoManifestStore } from "./manifest-store";
import type { ReadStores, RegistryStores } from "./ports";
import { R2BlobStore } from "./r2-blob-store";
import { R2UploadStore } from "./r2-upload-store";

/** The stores over R2 and Durable Objects, as their classes (the mirror's cache also uses `confirmTag`). */
export interface R2Stores extends RegistryStores {
  blobs: R2BlobStore;
  uploads: R2UploadStore;
  manifests: DoManifestStore;
}

/**
 * The edge index: the KV namespace, the isolate's cache of it (one per isolate), the data centre's cache (Cache
 * API, for content by digest) and the staleness bound.
 */
export interface EdgeIndex {
  kv: KVNamespace;
  cache: IsolateCache<EdgeCacheValue>;
  colo?: Cache;
  /** This registry's part of the Cache API (EdgeSources.coloNamespace). */
  coloNamespace?: string;
  timing: EdgeTiming;
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

/**
 * The read roles served from the edge index (KV and the isolate's cache), falling back to the Durable Objects
 * on a miss (STORAGE.md "The edge read path").
 */
export function createEdgeStores(bucket: R2Bucket, namespaces: IndexNamespaces, edge: EdgeIndex): ReadStores {
  const indexes = new Indexes(namespaces);
  const origin = new DoManifestStore(indexes, bucket, true);
  return createEdgeReadStores({ ...edge, bucket, indexes, origin });
}

/** A metered view of the bindings: every R2 operation, index call and KV operation counted in `ops`. */
function metered(bucket: R2Bucket, namespaces: IndexNamespaces, ops: StorageOps): [R2Bucket, IndexNamespaces] {
  return [
    meterBucket(bucket, ops),
    {
      repositories: meterNamespace(namespaces.repositories, ops),
      catalog: meterNamespace(namespaces.catalog, ops),
      blobs: meterNamespace(namespaces.blobs, ops),
    },
  ];
}

/** The same stores, counting every R2 operation and index call in `ops` (for `X-Storage-Ops`). */
export function createMeteredStores(bucket: R2Bucket, namespaces: IndexNamespaces, ops: StorageOps): R2Stores {
  return createStores(...metered(bucket, namespaces, ops));
}

/** The edge read stores, counting every operation in `ops`. */
export function createMeteredEdgeStores(bucket: R2Bucket, namespaces: IndexNamespaces, edge: EdgeIndex, ops: StorageOps): ReadStores {
  return createEdgeStores(...metered(bucket, namespaces, ops), { ...edge, kv: meterKv(edge.kv, ops) });
}
