/**
 * The KV key layout of the edge index (binding `EDGE_INDEX`; STORAGE.md "The edge read path"), in one place.
 * A repository name never contains `:`, so the first `:` after the kind ends the name.
 *
 * | key                          | value                         | metadata                         |
 * |------------------------------|-------------------------------|----------------------------------|
 * | `tag:<name>:<tag>`           | the tagged manifest's bytes   | `{digest, mediaType, size, r2?}` |
 * | `manifest:<name>:<digest>`   | the manifest's bytes          | `{digest, mediaType, size, r2?}` |
 * | `blob:<name>:<digest>`       | the blob record (JSON)        | none                             |
 *
 * `r2: true`: the manifest is over INLINE_LIMIT and its bytes are in R2 (`keys.manifest`), not in the value.
 */

/** What one edge key publishes: a repository's tag, manifest or blob link. */
export interface EdgeEntry {
  kind: "tag" | "manifest" | "blob";
  repository: string;
  /** The tag, or the digest. */
  ref: string;
}

/** Metadata of a `tag:` or `manifest:` value. */
export interface EdgeManifestMeta {
  digest: string;
  mediaType: string;
  size: number;
  r2?: true;
}

/** A value to publish under an edge key: bytes or text, with optional metadata. */
export interface EdgeValue {
  value: ArrayBuffer | string;
  metadata?: EdgeManifestMeta;
}

const KINDS = new Set<EdgeEntry["kind"]>(["tag", "manifest", "blob"]);

/** The KV key of an entry. */
export function edgeKey(entry: EdgeEntry): string {
  return `${entry.kind}:${entry.repository}:${entry.ref}`;
}

/** The entry a KV key names; null for a key outside the layout. */
export function parseEdgeKey(key: string): EdgeEntry | null {
  const kindEnd = key.indexOf(":");
  const nameEnd = key.indexOf(":", kindEnd + 1);
  if (kindEnd < 0 || nameEnd < 0) return null;
  const kind = key.slice(0, kindEnd) as EdgeEntry["kind"];
  if (!KINDS.has(kind)) return null;
  return { kind, repository: key.slice(kindEnd + 1, nameEnd), ref: key.slice(nameEnd + 1) };
}

/** The key prefixes of one repository (for listing what KV holds of it). */
export function edgePrefixes(repository: string): string[] {
  return [...KINDS].map((kind) => `${kind}:${repository}:`);
}
