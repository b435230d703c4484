import type { Digest, RepositoryName, Tag } from "@registry/core";

/**
 * The R2 key layout, in one place. STORAGE.md beside this package explains each key.
 * Repository name components start with [a-z0-9], so the `_blob`, `_manifest`, `_tag` and `_ref`
 * path segments can never collide with a nested repository name.
 */
export const keys = {
  /** Raw bytes written by one upload session (one object per segment). */
  data: (uploadId: string, segment: string) => `data/${uploadId}/${segment}`,
  dataPrefix: (uploadId: string) => `data/${uploadId}/`,
  /** Upload session state (JSON). */
  upload: (uploadId: string) => `upload/${uploadId}`,
  /** Global blob index: where the bytes of a digest live (JSON BlobRecord). */
  blob: (digest: Digest) => `blob/${digest.replace(":", "/")}`,
  /** A repository's link to a blob (JSON BlobRecord, size in customMetadata). */
  link: (repo: RepositoryName, digest: Digest) => `repo/${repo}/_blob/${digest.replace(":", "/")}`,
  /** A manifest's exact bytes, Content-Type = its media type. */
  manifest: (repo: RepositoryName, digest: Digest) => `repo/${repo}/_manifest/${digest.replace(":", "/")}`,
  /** A tag: a copy of the manifest bytes it points at (one read per pull by tag), digest in customMetadata. */
  tag: (repo: RepositoryName, tag: Tag | string) => `repo/${repo}/_tag/${tag}`,
  tagPrefix: (repo: RepositoryName) => `repo/${repo}/_tag/`,
  /** A referrer of `subject`: customMetadata holds the descriptor for the referrers index. */
  referrer: (repo: RepositoryName, subject: Digest, digest: Digest) =>
    `repo/${repo}/_ref/${subject.replace(":", "/")}/${digest}`,
  referrerPrefix: (repo: RepositoryName, subject: Digest) => `repo/${repo}/_ref/${subject.replace(":", "/")}/`,
  /** Marker of a repository that has received a manifest (the catalog). */
  catalog: (repo: RepositoryName | string) => `catalog/${repo}`,
  catalogPrefix: "catalog/",
} as const;
