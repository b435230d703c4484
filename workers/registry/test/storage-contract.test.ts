import { env } from "cloudflare:test";
import type { Digest, RepositoryName } from "@registry/core";
import { createEdgeStores, createStores, edgeTiming, IsolateCache, type EdgeCacheValue } from "@registry/storage";
import {
  blobReaderContract,
  blobStoreContract,
  manifestReaderContract,
  manifestStoreContract,
  sha256,
  uploadStoreContract,
} from "../../../packages/storage/test/contract";
import type { Env } from "../src/index";

/**
 * The storage ports' contract suites against the registry's own stores: bytes in the real local R2, the index in
 * the real local Durable Objects. Blobs are put the way a push puts them (an upload); what an upload finishes is
 * read back through the blob store over the same bucket.
 */
function stores() {
  const e = env as unknown as Env;
  return createStores(e.REGISTRY_BUCKET, { repositories: e.REPOSITORY_INDEX, catalog: e.CATALOG, blobs: e.BLOB_INDEX });
}

const timing = edgeTiming();
const edgeCache = new IsolateCache<EdgeCacheValue>(timing.isolateTtlSec * 1000);

/** The read roles served at the edge (KV, the isolate's cache, the Durable Objects on a miss). */
function edgeStores() {
  const e = env as unknown as Env;
  return createEdgeStores(e.REGISTRY_BUCKET, { repositories: e.REPOSITORY_INDEX, catalog: e.CATALOG, blobs: e.BLOB_INDEX }, { kv: e.EDGE_INDEX, cache: edgeCache, timing });
}

async function seedBlob(repository: RepositoryName, bytes: Uint8Array): Promise<Digest> {
  const digest = await sha256(bytes);
  await stores().uploads.putBlob(repository, digest, { stream: new Response(bytes).body!, length: bytes.byteLength });
  return digest;
}

blobStoreContract("R2BlobStore", () => ({ reader: stores().blobs, seed: seedBlob }));
manifestStoreContract("DoManifestStore", () => ({ store: stores().manifests, seedBlob }));
blobReaderContract("EdgeBlobReader", () => ({ reader: edgeStores().blobs, seed: seedBlob }));
manifestReaderContract("EdgeManifestReader", () => ({
  reader: edgeStores().manifests,
  async seed(repository, tag, bytes) {
    const digest = await sha256(bytes);
    await stores().manifests.put(repository, { digest, mediaType: "application/vnd.oci.image.manifest.v1+json", size: bytes.byteLength, bytes }, tag);
    return digest;
  },
}));
uploadStoreContract("R2UploadStore", () => {
  const { uploads, blobs } = stores();
  return { store: uploads, blobs };
});
