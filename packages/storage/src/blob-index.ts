import { DurableObject } from "cloudflare:workers";
import type { BlobRecord } from "./blob-record";

/**
 * The registry-wide blob index: where the bytes of each digest live, in 256 Durable Objects sharded by the
 * digest's first two hex characters (`blobs-00` … `blobs-ff`), so they can be walked. Every repository link to a
 * blob is made from this record (an upload's commit, a mount), and every such use first "touches" the row here.
 * That is what makes garbage collection safe beside pushes (STORAGE.md "Garbage collection"): a run condemns
 * only rows untouched since before it started, and a condemned row is never handed out again — a mount finds
 * nothing (the client uploads), a new upload of the same digest replaces it with its own bytes.
 */
export class BlobIndex extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, record TEXT NOT NULL,
         touched_at INTEGER NOT NULL, condemned_at INTEGER)`,
    );
  }

  /**
   * An upload of `digest` finished with `record`: when a live copy exists it is kept (touched) and returned with
   * `duplicate` (the caller deletes its own bytes); otherwise `record` becomes the copy (replacing a condemned one).
   */
  commit(digest: string, record: BlobRecord, now = Date.now()): { record: BlobRecord; duplicate: boolean } {
    const live = this.touch(digest, now);
    if (live) return { record: live, duplicate: true };
    this.sql.exec(
      `INSERT INTO blobs (digest, size, record, touched_at, condemned_at) VALUES (?, ?, ?, ?, NULL)
       ON CONFLICT (digest) DO UPDATE SET size = excluded.size, record = excluded.record, touched_at = excluded.touched_at,
         condemned_at = NULL`,
      digest,
      record.size,
      JSON.stringify(record),
      now,
    );
    return { record, duplicate: false };
  }

  /**
   * The live copy of `digest`, touched (a mount is about to link it), or null. `adopt`: a repository's link that
   * predates this index names these bytes; with no row at all they become the copy.
   */
  acquire(digest: string, adopt?: BlobRecord, now = Date.now()): BlobRecord | null {
    const live = this.touch(digest, now);
    if (live || !adopt) return live;
    const existing = this.sql.exec("SELECT 1 FROM blobs WHERE digest = ?", digest).toArray().length > 0;
    if (existing) return null; // condemned: its bytes are being deleted
    return this.commit(digest, adopt, now).record;
  }

  /**
   * Garbage collection, one shard: condemns every live row whose digest no repository linked when the run marked
   * them (`marked`, the shard's digests in any order) and untouched since `cutoff` (ms); returns the condemned rows,
   * with those left condemned by an interrupted earlier run. `dryRun`: reports the same rows, changes nothing.
   */
  condemn(marked: readonly string[], cutoff: number, dryRun: boolean, now = Date.now()): CondemnedBlob[] {
    const keep = new Set(marked);
    const rows = this.sql.exec("SELECT digest, size, record, touched_at, condemned_at FROM blobs ORDER BY digest").toArray();
    const out: CondemnedBlob[] = [];
    for (const r of rows) {
      const condemned = r.condemned_at !== null;
      if (!condemned && (keep.has(r.digest as string) || (r.touched_at as number) >= cutoff)) continue;
      out.push({ digest: r.digest as string, record: JSON.parse(r.record as string) as BlobRecord });
    }
    if (!dryRun) {
      this.ctx.storage.transactionSync(() => {
        for (const c of out) this.sql.exec("UPDATE blobs SET condemned_at = ? WHERE digest = ? AND condemned_at IS NULL", now, c.digest);
      });
    }
    return out;
  }

  /** `condemn`, then the upload ids the live rows still use (the orphan sweep keeps them): one call per shard. */
  sweep(marked: readonly string[], cutoff: number, dryRun: boolean, now = Date.now()): { condemned: CondemnedBlob[]; live: string[] } {
    const condemned = this.condemn(marked, cutoff, dryRun, now);
    const going = new Set(condemned.flatMap((c) => uploadIds(c.record)));
    return { condemned, live: this.liveUploads().filter((u) => !going.has(u)) };
  }

  /** Removes condemned rows whose bytes are deleted (a row revived by a new upload meanwhile is kept). */
  forget(digests: readonly string[]): number {
    let n = 0;
    for (const d of digests) n += this.sql.exec("DELETE FROM blobs WHERE digest = ? AND condemned_at IS NOT NULL", d).rowsWritten;
    return n;
  }

  /** Upload ids whose bytes the live rows use (the orphan sweep keeps them). */
  liveUploads(): string[] {
    const ids = new Set<string>();
    for (const r of this.sql.exec("SELECT record FROM blobs WHERE condemned_at IS NULL").toArray()) {
      for (const id of uploadIds(JSON.parse(r.record as string) as BlobRecord)) ids.add(id);
    }
    return [...ids];
  }

  /** How many rows this shard holds (benchmarks, tests). */
  count(): number {
    return this.sql.exec("SELECT count(*) AS n FROM blobs").one().n as number;
  }

  private touch(digest: string, now: number): BlobRecord | null {
    const row = this.sql.exec("SELECT record FROM blobs WHERE digest = ? AND condemned_at IS NULL", digest).toArray()[0];
    if (!row) return null;
    this.sql.exec("UPDATE blobs SET touched_at = ? WHERE digest = ?", now, digest);
    return JSON.parse(row.record as string) as BlobRecord;
  }
}

/** A row a GC run condemned: its bytes are deleted next, then the row is forgotten. */
export interface CondemnedBlob {
  digest: string;
  record: BlobRecord;
}

/** The 256 shard names, in order. */
export const BLOB_SHARDS: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The shard of a digest: the first two hex characters of its encoded part. */
export function blobShard(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1, digest.indexOf(":") + 3).toLowerCase();
}

/** The upload sessions (R2 `data/<id>/…`) whose objects hold a record's bytes. */
export function uploadIds(record: BlobRecord): string[] {
  const ids = new Set<string>();
  for (const s of record.segments) {
    const id = /^data\/([^/]+)\//.exec(s.key)?.[1];
    if (id) ids.add(id);
  }
  return [...ids];
}

/** Stubs of the blob index's shards. */
export class BlobIndexes {
  constructor(private readonly ns: DurableObjectNamespace<BlobIndex>) {}

  shard(name: string): DurableObjectStub<BlobIndex> {
    return this.ns.get(this.ns.idFromName(`blobs-${name}`));
  }

  of(digest: string): DurableObjectStub<BlobIndex> {
    return this.shard(blobShard(digest));
  }
}
