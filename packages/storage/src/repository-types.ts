import type { Descriptor } from "@registry/core";
import type { CatalogIndex } from "./catalog-index";
import type { ReferenceDigests } from "./repository-schema";
import type { Refusal } from "./tag-guard";

/** The shapes a repository index (repository-index.ts) takes and returns. */

/** A manifest row as the index returns it: bytes inline, or null when they are in R2. */
export interface IndexedManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Uint8Array | null;
  /** For a lookup by tag: when the tag was last set or confirmed (ms since the epoch). */
  taggedAt?: number;
}

export interface IndexedManifestWrite {
  digest: string;
  mediaType: string;
  size: number;
  /** null: the bytes were written to R2 by the caller (too large for a row). */
  bytes: Uint8Array | null;
  subject?: string;
  referrer?: Descriptor;
  /** What it references (checked again in the write's transaction, and recorded for garbage collection). */
  references?: ReferenceDigests;
}

export interface NamePage {
  items: string[];
  more: boolean;
}

export interface ReferrerPage {
  items: Descriptor[];
  more: boolean;
}

/** The bindings the index uses: the catalog, and the edge index when the worker has one. */
export interface IndexEnv {
  CATALOG: DurableObjectNamespace<CatalogIndex>;
  EDGE_INDEX?: KVNamespace;
}

/**
 * A write's outcome: `edgeWrites` = KV writes it queued for the edge index (0 without one); `refused`: an
 * immutable-tag rule of the caller's `protect` forbade it, and nothing was written.
 */
export interface IndexWrite {
  edgeWrites: number;
  refused?: Refusal;
  /** References the index no longer holds (a GC run swept them since the push checked): nothing was written. */
  missing?: string[];
}
