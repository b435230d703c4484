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

/**
 * A blob found in a repository, ready to be read: the lookup is done, `read` fetches only bytes. The caller
 * resolves any range against `size` first (an HTTP `Range` is parsed by the API layer, never here).
 */
export interface OpenBlob extends BlobInfo {
  /** Streams the whole blob, or `range` (within `size`): the stream yields exactly that many bytes. */
  read(range?: ByteRange): Promise<ReadableStream<Uint8Array>>;
}

/** The read role of blobs (OCI distribution spec §"Pulling blobs"): all a read-only registry serves. */
export interface BlobReader {
  /** The blob's size if the repository holds it. */
  stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null>;
  /** The blob, found and ready to read (one lookup; no bytes read yet); null when the repository lacks it. */
  open(repository: RepositoryName, digest: Digest): Promise<OpenBlob | null>;
}

/** Blobs as seen through one repository, read and write (spec §"Pulling blobs", §"Deleting blobs", mounts). */
export interface BlobStore extends BlobReader {
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

/** A request body to append: `length` is its declared length in bytes, when known. */
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
   * Appends a chunk. `start` is the first byte position the client claims for it; it must
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
}

/** A manifest with its bytes. */
export interface ManifestContent extends ManifestInfo {
  bytes: Uint8Array;
}

/** A manifest to store, already parsed and validated by the caller. */
export interface ManifestWrite extends ManifestContent {
  /** Descriptor to list under `subject` in the referrers API, when the manifest has a subject. */
  subject?: Digest;
  referrer?: Descriptor;
  /**
   * What it references: checked again where it is stored, atomically (a GC run may have swept one since the
   * caller's check: MANIFEST_BLOB_UNKNOWN), and recorded for garbage collection.
   */
  references?: References;
}

/** A manifest named by tag or by digest. */
export type ManifestRef = { kind: "tag"; tag: Tag } | { kind: "digest"; digest: Digest };

/** A page of names in lexical order: `more` is true when a next page exists. */
export interface Page<T> {
  items: T[];
  more: boolean;
}

/** The digests a manifest's descriptors name: its blobs (config, layers) and child manifests (an index's). */
export interface References {
  blobs: readonly Digest[];
  manifests: readonly Digest[];
}

/** The stored size of each of `References`, in the same order; null where the repository lacks it. */
export interface StoredSizes {
  blobs: (number | null)[];
  manifests: (number | null)[];
}

/**
 * The read role of manifests, tags, referrers and the catalog (spec §"Pulling manifests", §"Listing tags",
 * §"Listing referrers"): all a read-only registry (the pull-through mirror) serves.
 */
export interface ManifestReader {
  get(repository: RepositoryName, ref: ManifestRef): Promise<ManifestContent | null>;
  stat(repository: RepositoryName, ref: ManifestRef): Promise<ManifestInfo | null>;
  /** Tags in lexical order after `last`, at most `n`. Null when the repository is unknown. */
  listTags(repository: RepositoryName, n: number, last?: string): Promise<Page<string> | null>;
  /** Descriptors of the manifests whose subject is `digest`, in digest order after `last`, at most `n`. */
  listReferrers(repository: RepositoryName, digest: Digest, n: number, last?: string): Promise<Page<Descriptor>>;
  /** Repository names in lexical order after `last`, at most `n`. */
  listRepositories(n: number, last?: string): Promise<Page<string>>;
}

/** The write role of manifests and tags (spec §"Pushing manifests", §"Deleting tags", §"Deleting manifests"). */
export interface ManifestWriter {
  /**
   * What the repository holds of everything a manifest references, in one lookup: each blob's and child
   * manifest's stored size, or null when absent (the caller decides MANIFEST_BLOB_UNKNOWN / MANIFEST_INVALID).
   */
  storedSizes(repository: RepositoryName, references: References): Promise<StoredSizes>;
  /**
   * Stores the manifest by digest, then (when given) points `tag` at it: never a tag to a missing manifest. A tag
   * that `protect` covers and that points at another manifest is not moved: `DENIED` naming the rule, nothing stored.
   */
  put(repository: RepositoryName, manifest: ManifestWrite, tag?: Tag, protect?: ProtectedTags): Promise<void>;
  /** Removes a tag only; `DENIED` when `protect` covers it. */
  deleteTag(repository: RepositoryName, tag: Tag, protect?: ProtectedTags): Promise<boolean>;
  /** Removes a manifest, every tag that points at it and its referrers entry; `DENIED` when `protect` covers one of its tags. */
  deleteManifest(repository: RepositoryName, digest: Digest, protect?: ProtectedTags): Promise<boolean>;
}

/** The immutable-tag rules that apply to one repository (tag globs with their rule ids). */
export type ProtectedTags = readonly { id: string; tag: string }[];

/** An immutable-tag rule as the policy keeps it. */
export interface ImmutableRule {
  id: string;
  repository: string;
  tag: string;
  created: string;
}

/** The registry's rules (immutable tags, retention, signature policies; validated by the caller). */
export interface PolicyStore {
  immutableRules(): Promise<ImmutableRule[]>;
  addImmutableRule(repository: string, tag: string): Promise<ImmutableRule>;
  removeImmutableRule(id: string): Promise<boolean>;
  /** The retention rules, oldest first. */
  retentionRules(): Promise<import("./lifecycle-types").RetentionRule[]>;
  /** Adds a rule (checked with retentionRuleProblem); the same rule twice gives the existing one back. */
  addRetentionRule(rule: import("./retention").RetentionRuleInput): Promise<import("./lifecycle-types").RetentionRule>;
  /** False when there is no rule `id`. */
  removeRetentionRule(id: string): Promise<boolean>;
  /** The signature policies, oldest first (DoPolicyStore: cached in the isolate for a few seconds). */
  signaturePolicies(): Promise<import("./signature-policy").SignaturePolicy[]>;
  /** Adds a policy (validated by the caller); the same pattern, keys and mode twice give the existing one back. */
  addSignaturePolicy(policy: import("./signature-policy").SignaturePolicyInput): Promise<import("./signature-policy").SignaturePolicy>;
  /** False when there is no policy `id`. */
  removeSignaturePolicy(id: string): Promise<boolean>;
}

/** Both manifest roles: what a registry that accepts pushes implements. */
export interface ManifestStore extends ManifestReader, ManifestWriter {}

/** What the read routes of the /v2 API need from storage (all a read-only registry implements). */
export interface ReadStores {
  blobs: BlobReader;
  manifests: ManifestReader;
}

/** Everything the /v2 API needs from storage: the read roles and the write roles. */
export interface RegistryStores extends ReadStores {
  blobs: BlobStore;
  uploads: UploadStore;
  manifests: ManifestStore;
}
