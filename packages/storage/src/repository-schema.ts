import { parseManifest, referencedBlobs } from "@registry/core";

/**
 * A repository index's tables. `refs` lists what each manifest references (its blobs, an index's children),
 * recorded at push; `created_at`, `linked_at` and `pulled_at` are what garbage collection's grace period and
 * retention's rules read; `pulls` counts pulls (batched, repository-stats.ts). Versions are applied in order, once (an object created before a version gets it on
 * its next start).
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS manifests (
     digest TEXT PRIMARY KEY, media_type TEXT NOT NULL, size INTEGER NOT NULL, bytes BLOB, subject TEXT, referrer TEXT);
   CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (subject, digest);
   CREATE TABLE IF NOT EXISTS tags (name TEXT PRIMARY KEY, digest TEXT NOT NULL, checked_at INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX IF NOT EXISTS tags_digest ON tags (digest);
   CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, record TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  `ALTER TABLE manifests ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE manifests ADD COLUMN refs_known INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE blobs ADD COLUMN linked_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tags ADD COLUMN pulled_at INTEGER;
   CREATE TABLE IF NOT EXISTS refs (manifest TEXT NOT NULL, digest TEXT NOT NULL, kind TEXT NOT NULL,
     PRIMARY KEY (manifest, kind, digest));`,
  `ALTER TABLE tags ADD COLUMN pulls INTEGER NOT NULL DEFAULT 0;`,
];

/** Brings the index's tables to the current version. */
export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const at = Number(sql.exec("SELECT value FROM meta WHERE key = 'schema'").toArray()[0]?.value ?? 0);
  for (let v = at; v < MIGRATIONS.length; v++) {
    sql.exec(MIGRATIONS[v]!);
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", String(v + 1));
  }
}

/** A manifest's references as digests: `blobs` (config, layers) and `manifests` (an index's children). */
export interface ReferenceDigests {
  blobs: readonly string[];
  manifests: readonly string[];
}

/** Records what `manifest` references (replacing what was recorded). */
export function recordRefs(sql: SqlStorage, manifest: string, refs: ReferenceDigests): void {
  sql.exec("DELETE FROM refs WHERE manifest = ?", manifest);
  for (const d of refs.blobs) sql.exec("INSERT OR IGNORE INTO refs (manifest, digest, kind) VALUES (?, ?, 'blob')", manifest, d);
  for (const d of refs.manifests) sql.exec("INSERT OR IGNORE INTO refs (manifest, digest, kind) VALUES (?, ?, 'manifest')", manifest, d);
  sql.exec("UPDATE manifests SET refs_known = 1 WHERE digest = ?", manifest);
}

/** Which of `refs` the index lacks (a GC run swept them after the push checked): the push must fail. */
export function missingRefs(sql: SqlStorage, refs: ReferenceDigests): string[] {
  const has = (table: "blobs" | "manifests", d: string) => sql.exec(`SELECT 1 FROM ${table} WHERE digest = ?`, d).toArray().length > 0;
  return [...refs.blobs.filter((d) => !has("blobs", d)), ...refs.manifests.filter((d) => !has("manifests", d))];
}

/**
 * Fills `refs` for manifests pushed before it existed, from their bytes in the row. Returns false when some
 * manifest's references stay unknown (its bytes are in R2): then no blob of the repository may be unlinked.
 */
export function backfillRefs(sql: SqlStorage): boolean {
  let complete = true;
  for (const row of sql.exec("SELECT digest, media_type, bytes FROM manifests WHERE refs_known = 0").toArray()) {
    if (!row.bytes) {
      complete = false;
      continue;
    }
    try {
      const refs = referencedBlobs(parseManifest(new Uint8Array(row.bytes as ArrayBuffer), row.media_type as string));
      recordRefs(sql, row.digest as string, { blobs: refs.blobs.map((d) => d.digest), manifests: refs.manifests.map((d) => d.digest) });
    } catch {
      complete = false;
    }
  }
  return complete;
}
