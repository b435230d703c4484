import { env } from "cloudflare:test";
import type { Digest, RepositoryName } from "@registry/core";
import { createStores } from "@registry/storage";
import { blobStoreContract, manifestStoreContract, sha256, uploadStoreContract } from "../../../packages/storage/test/contract";
import type { Env } from "../src/index";

/**
 * The storage ports' contract suites against the registry's own stores: bytes in the real local R2, the index in
 * the real local Durable Objects. Blobs are put the way a push puts them (an upload); what an upload finishes is
 * read back through the blob store over the same bucket.
 */
function stores() {
  const e = env as unknown as Env;
  return createStores(e.REGISTRY_BUCKET, { repositories: e.REPOSITORY_INDEX, catalog: e.CATALOG });
}

async function seedBlob(repository: RepositoryName, bytes: Uint8Array): Promise<Digest> {
  const digest = await sha256(bytes);
  await stores().uploads.putBlob(repository, digest, { stream: new Response(bytes).body!, length: bytes.byteLength });
  return digest;
}

blobStoreContract("R2BlobStore", () => ({ reader: stores().blobs, seed: seedBlob }));
manifestStoreContract("DoManifestStore", () => ({ store: stores().manifests, seedBlob }));
uploadStoreContract("R2UploadStore", () => {
  const { uploads, blobs } = stores();
  return { store: uploads, blobs };
});
