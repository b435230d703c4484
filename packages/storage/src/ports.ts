import type { Descriptor, Digest, RepositoryName, Tag } from "@registry/core";

/**
 * Storage roles of the registry, as small interfaces that know nothing of HTTP.
 * Every method returns `null` (or `false`) for "absent" and throws only
 * `OciError`s for domain failures (bad digest, wrong size, out-of-order chunk).
 * The R2 adapters and their key layout are described in ../STORAGE.md.
 */

/** A byte range inside a blob: `offset` and `length` in bytes, already validated against the blob's size. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** What a repository knows about one of its blobs. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** A readable blob (or a range of it): `body` yields exactly `length` bytes. */
export interface BlobContent extends BlobInfo {
  body: ReadableStream<Uint8Array>;
  /** Present when a range was asked for. */
  range?: ByteRange;
}

/** Blobs as seen through one repository (OCI distribution spec §"Pulling blobs", §"Deleting blobs"). */
export interface BlobStore {
  /** The blob's size if the repository holds it. */
  stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null>;
  /**
   * The blob's bytes, or a range of them. `range` is resolved by the caller through `resolveRange`
   * with the size returned here, so `get` receives a function of the size.
   */
  get(
    repository: RepositoryName,
    digest: Digest,
    range?: (size: number) => ByteRange | undefined,
  ): Promise<BlobContent | null>;
  /** Removes the repository's link to the blob; the bytes stay while other repositories use them. */
  delete(repository: RepositoryName, digest: Digest): Promise<boolean>;
  /**
   * Links a blob into `to` (cross-repository mount) from the first of `sources` that holds it; no other
   * repository is looked at (an empty list looks at none). `"any"` takes any repository's copy: only for a
   * registry whose access is not restricted. Returns null when there is nothing to mount.
   */
  mount(to: RepositoryName, digest: Digest, sources: MountSources): Promise<BlobInfo | null>;
}

/** Where a cross-repository mount may take a blob from: these repositories, in order, or any repository. */
export type MountSources = readonly RepositoryName[] | "any";

/** Where an upload session stands: `size` bytes received so far. */
export interface UploadStatus {
  id: string;
  repository: RepositoryName;
  size: number;
}

/** A request body to append: `length` is the Content-Length when the client sent one. */
export interface UploadBody {
  stream: ReadableStream<Uint8Array>;
  length?: number;
}

/** Upload sessions (OCI distribution spec §"Pushing blobs": POST, PATCH, PUT, GET, DELETE). */
export interface UploadStore {
  /** Opens a session. */
  start(repository: RepositoryName): Promise<UploadStatus>;
  status(repository: RepositoryName, id: string): Promise<UploadStatus | null>;
  /**
   * Appends a chunk. `start` is the first byte position the client claims (from Content-Range); it must
   * equal the session's size, else `BLOB_UPLOAD_INVALID` with status 416. Throws `BLOB_UPLOAD_UNKNOWN`.
   */
  append(repository: RepositoryName, id: string, body: UploadBody, start?: number): Promise<UploadStatus>;
  /**
   * Appends an optional last chunk, verifies the whole upload against `digest` and links the blob into the
   * repository. Throws `DIGEST_INVALID` (and discards the upload) on mismatch, `BLOB_UPLOAD_UNKNOWN`.
   */
  finish(repository: RepositoryName, id: string, digest: Digest, body?: UploadBody): Promise<BlobInfo>;
  /** Discards a session and everything it wrote. */
  cancel(repository: RepositoryName, id: string): Promise<boolean>;
  /**
   * A whole blob in one request whose digest is known in advance (POST ?digest= or PUT on a fresh session):
   * streamed to storage, verified on the way, linked into the repository. `SIZE_INVALID` / `DIGEST_INVALID`.
   */
  putBlob(repository: RepositoryName, digest: Digest, body: UploadBody): Promise<BlobInfo>;
}

/** A manifest as stored: the exact bytes that were pushed. */
export interface ManifestInfo {
  digest: Digest;
  mediaType: string;
  size: number;
  /** Looked up by tag: when the tag was last set or confirmed (ms since the epoch). */
  taggedAt?: number;
}

export interface ManifestContent extends ManifestInfo {
  bytes: Uint8Array;
}

/** A manifest to store, already parsed and validated by the caller. */
export interface ManifestWrite extends ManifestContent {
  /** Descriptor to list under `subject` in the referrers API, when the manifest has a subject. */
  subject?: Digest;
  referrer?: Descriptor;
}

export type ManifestRef = { kind: "tag"; tag: Tag } | { kind: "digest"; digest: Digest };

/** A page of names in lexical order: `more` is true when a next page exists. */
export interface Page<T> {
  items: T[];
  more: boolean;
}

/** Manifests, tags, referrers and the catalog (OCI distribution spec §"Pulling manifests", §"Pushing manifests",
 * §"Content discovery", §"Deleting manifests"). */
export interface ManifestStore {
  get(repository: RepositoryName, ref: ManifestRef): Promise<ManifestContent | null>;
  stat(repository: RepositoryName, ref: ManifestRef): Promise<ManifestInfo | null>;
  /** True when the repository holds a manifest with this digest. */
  has(repository: RepositoryName, digest: Digest): Promise<boolean>;
  /** Stores the manifest by digest, then (when given) points `tag` at it: never a tag to a missing manifest. */
  put(repository: RepositoryName, manifest: ManifestWrite, tag?: Tag): Promise<void>;
  /** Records that `tag` still points at `digest` upstream (pull-through caches revalidating a tag). */
  confirmTag(repository: RepositoryName, tag: Tag, digest: Digest): Promise<void>;
  /** Removes a tag only. */
  deleteTag(repository: RepositoryName, tag: Tag): Promise<boolean>;
  /** Removes a manifest, every tag that points at it and its referrers entry. */
  deleteManifest(repository: RepositoryName, digest: Digest): Promise<boolean>;
  /** Tags in lexical order after `last`, at most `n`. Null when the repository is unknown. */
  listTags(repository: RepositoryName, n: number, last?: string): Promise<Page<string> | null>;
  /** Descriptors of the manifests whose subject is `digest`, optionally only one artifactType. */
  listReferrers(
    repository: RepositoryName,
    digest: Digest,
    n: number,
    last?: string,
  ): Promise<Page<Descriptor>>;
  /** Repository names in lexical order after `last`, at most `n`. */
  listRepositories(n: number, last?: string): Promise<Page<string>>;
}

/** Everything the /v2 API needs from storage. */
export interface RegistryStores {
  blobs: BlobStore;
  uploads: UploadStore;
  manifests: ManifestStore;
}
