import type { Digest, RepositoryName } from "@registry/core";

/**
 * The R2 key layout, in one place (STORAGE.md beside this package explains each key). Manifests, tags,
 * referrers and blob links live in the Durable Object index, not here.
 */
export const keys = {
  /** Raw bytes written by one upload session (one object per segment). */
  data: (uploadId: string, segment: string) => `data/${uploadId}/${segment}`,
  /** Upload session state (JSON). */
  upload: (uploadId: string) => `upload/${uploadId}`,
  /** Global blob index: where the bytes of a digest live (JSON BlobRecord), for mounts without `from`. */
  blob: (digest: Digest) => `blob/${digest.replace(":", "/")}`,
  /** A manifest too large for its index row (over INLINE_LIMIT): its exact bytes. */
  manifest: (repo: RepositoryName, digest: Digest) => `manifest/${repo}/${digest.replace(":", "/")}`,
} as const;
