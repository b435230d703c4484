import type { Descriptor } from "@registry/core";

/**
 * Replication's shapes (issue 11 §1): what the copy engine (copy.ts) reads from the source registry and how it
 * reaches a target. The source is this registry's own storage, read through an adapter in the registry worker
 * (no HTTP, no token); the target is any OCI registry over HTTP with Docker token or Basic auth.
 */

/** A manifest as the source holds it: the exact bytes. */
export interface SourceManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

/** A blob of the source, ready to stream (whole, or a byte range for a chunked upload). */
export interface SourceBlob {
  size: number;
  read(range?: { offset: number; length: number }): Promise<ReadableStream<Uint8Array>>;
}

/** What the copy engine reads from the source registry. */
export interface SourceReader {
  /** By tag or digest; null when absent. */
  manifest(repository: string, reference: string): Promise<SourceManifest | null>;
  blob(repository: string, digest: string): Promise<SourceBlob | null>;
  /** Every OCI 1.1 referrer of `digest` (all pages). */
  referrers(repository: string, digest: string): Promise<Descriptor[]>;
  /** Every tag of the repository (cosign's tag scheme, scheduled runs). */
  tags(repository: string): Promise<string[]>;
}

/** A target registry with its credentials resolved (a robot account of the target, held as a Worker secret). */
export interface TargetRegistry {
  /** Base URL, e.g. "https://replica.example.com" (no /v2). */
  url: string;
  username?: string;
  password?: string;
}

/** One reference to copy. */
export interface ReplicateRequest {
  source: SourceReader;
  target: TargetRegistry;
  repository: string;
  /** The repository's name on the target (default: the same). */
  targetRepository?: string;
  /** A tag or a digest. */
  reference: string;
  /** Copy the referrer tree too (OCI 1.1 referrers, nested, and cosign's sha256-<hex>.sig/.att/.sbom tags). */
  referrers: boolean;
  /** The fetch to use (tests, service bindings); default global fetch. */
  fetch?: typeof fetch;
  /**
   * Largest chunk of a blob upload, in bytes (default 64 MiB): a bigger blob is sent in chunks of this size, raised
   * to the target's `OCI-Chunk-Min-Length` and lowered to its `OCI-Chunk-Max-Length`; a smaller one in one PUT.
   */
  chunkSize?: number;
}

/**
 * What one replication did. Counts are of what this run changed on the target: a rerun that finds everything there
 * reports 0 manifests (present manifests are not looked into, so their blobs are not counted as skipped either).
 */
export interface ReplicateReport {
  /** Manifests pushed by digest (images, indexes, their children, referrers and cosign-tag manifests). */
  manifests: number;
  /** Blobs uploaded (streamed from the source). */
  blobsCopied: number;
  /** Blobs the target already had in the repository (HEAD 200). */
  blobsSkipped: number;
  /** Blobs mounted from another repository of the target (201 on POST ?mount=&from=). */
  blobsMounted: number;
  /** Bytes sent to the target. */
  bytes: number;
  /** Of `manifests`, those pushed as referrers: OCI 1.1 referrers (nested) and cosign's tag-scheme manifests. */
  referrers: number;
  /** The target has no referrers API: referrers were listed under the OCI referrers tag schema (sha256-<hex>). */
  tagSchema: boolean;
}
