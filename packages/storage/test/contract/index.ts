/**
 * Contract suites for the storage ports: every implementation (the R2/Durable Object stores, the pull-through
 * stores, and any store added later) runs the suites of the roles it implements, in workerd.
 */
export { blobReaderContract } from "./blob-reader";
export type { BlobReaderFixture } from "./blob-reader";
export { blobStoreContract } from "./blob-store";
export type { BlobStoreFixture } from "./blob-store";
export { manifestReaderContract, someManifest } from "./manifest-reader";
export type { ManifestReaderFixture } from "./manifest-reader";
export { manifestStoreContract } from "./manifest-store";
export type { ManifestStoreFixture } from "./manifest-store";
export { uploadStoreContract } from "./upload-store";
export type { UploadStoreFixture } from "./upload-store";
export { freshRepository, randomBytes, sha256 } from "./fixtures";
