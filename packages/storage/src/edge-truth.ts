import type { EdgeEntry, EdgeManifestMeta, EdgeValue } from "./edge-keys";

/**
 * What an edge key should hold, read from a repository index's own tables (the truth the outbox publishes):
 * a tag or manifest key holds the manifest's bytes (empty when they are in R2) with its digest, media type and
 * size as metadata; a blob key holds the blob record. Null when the index holds nothing for the key.
 */
export function indexTruth(sql: SqlStorage): (entry: EdgeEntry) => EdgeValue | null {
  return (entry) => {
    switch (entry.kind) {
      case "tag":
        return manifestValue(
          sql.exec(
            "SELECT m.digest, m.media_type, m.size, m.bytes FROM tags t JOIN manifests m ON m.digest = t.digest WHERE t.name = ?",
            entry.ref,
          ),
        );
      case "manifest":
        return manifestValue(sql.exec("SELECT digest, media_type, size, bytes FROM manifests WHERE digest = ?", entry.ref));
      case "blob": {
        const row = sql.exec("SELECT record FROM blobs WHERE digest = ?", entry.ref).toArray()[0];
        return row ? { value: row.record as string } : null;
      }
    }
  };
}

/** Every key the index holds for its repository, without the repository (tags, manifests, blob links). */
export function heldEntries(sql: SqlStorage): Omit<EdgeEntry, "repository">[] {
  const column = (query: string, kind: EdgeEntry["kind"]) => sql.exec(query).toArray().map((r) => ({ kind, ref: r.ref as string }));
  return [
    ...column("SELECT name AS ref FROM tags", "tag"),
    ...column("SELECT digest AS ref FROM manifests", "manifest"),
    ...column("SELECT digest AS ref FROM blobs", "blob"),
  ];
}

function manifestValue(rows: SqlStorageCursor<Record<string, SqlStorageValue>>): EdgeValue | null {
  const row = rows.toArray()[0];
  if (!row) return null;
  const metadata: EdgeManifestMeta = { digest: row.digest as string, mediaType: row.media_type as string, size: row.size as number };
  if (!row.bytes) return { value: "", metadata: { ...metadata, r2: true } };
  return { value: row.bytes as ArrayBuffer, metadata };
}
