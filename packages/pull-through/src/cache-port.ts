import type { Digest, RepositoryName, Tag } from "@registry/core";
import type { BlobReader, ManifestContent, ManifestRef, ManifestStore, UploadStore } from "@registry/storage";

/** A cached manifest; looked up by tag, also when the tag was last set or confirmed upstream (ms since the epoch). */
export interface CachedManifest extends ManifestContent {
  taggedAt?: number;
}

/**
 * The mirror's own manifest port over its cache: the shared ManifestStore, plus what only a pull-through
 * cache needs — how fresh a tag is (`taggedAt`) and marking it fresh again without rewriting it (`confirmTag`).
 * The registry's DoManifestStore implements it.
 */
export interface ManifestCache extends ManifestStore {
  get(repository: RepositoryName, ref: ManifestRef): Promise<CachedManifest | null>;
  /** Records that `tag` still points at `digest` upstream: its `taggedAt` restarts. */
  confirmTag(repository: RepositoryName, tag: Tag, digest: Digest): Promise<void>;
}

/** The mirror's cache: blobs are read from it and filled through its uploads; manifests as ManifestCache. */
export interface CacheStores {
  blobs: BlobReader;
  uploads: UploadStore;
  manifests: ManifestCache;
}
