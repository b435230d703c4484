import { blobShard } from "./blob-index";
import type { JobCounts, JobError, JobItem, JobKind, JobPhase, JobRun, GcOptions, RetentionOptions } from "./lifecycle-types";

/**
 * The lifecycle runner's tables (in its Durable Object's SQLite): the runs with their phase, cursor and counts;
 * the items each run deleted; and, for the run under way, what it marked as still in use (digests, upload
 * sessions and R2 manifest keys) — so a run that stops anywhere resumes from its last finished step.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, options TEXT NOT NULL, status TEXT NOT NULL,
    phase TEXT NOT NULL, cursor TEXT, done INTEGER NOT NULL DEFAULT 0, total INTEGER, started INTEGER NOT NULL,
    cutoff INTEGER NOT NULL, ended INTEGER, counts TEXT NOT NULL, errors TEXT NOT NULL, flags TEXT NOT NULL DEFAULT '{}',
    stepped INTEGER NOT NULL DEFAULT 0, ops TEXT NOT NULL DEFAULT '{}');
  CREATE TABLE IF NOT EXISTS items (run TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, repository TEXT,
    ref TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (run, seq));
  CREATE TABLE IF NOT EXISTS marked (digest TEXT PRIMARY KEY, shard TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS marked_shard ON marked (shard);
  CREATE TABLE IF NOT EXISTS marked_uploads (id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS live_uploads (id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS marked_keys (key TEXT PRIMARY KEY);
`;

/** Runs kept in the history (older ones are forgotten with their items). */
export const HISTORY = 50;
const MAX_ERRORS = 50;

/** What a step may change about its run besides items: flags that later phases read. */
export interface RunFlags {
  /** Some repository's step failed: its links are unknown, so no blob bytes may be deleted this run. */
  unmarked?: boolean;
  /** Some shard's live uploads are unknown: orphan data is left alone this run. */
  shardsUnknown?: boolean;
  /** Consecutive failed attempts of the current step (retried with backoff; the run fails after MAX_ATTEMPTS). */
  failures?: number;
}

/** A run as the runner works on it. */
export interface RunState {
  id: string;
  kind: JobKind;
  options: GcOptions | RetentionOptions;
  status: JobRun["status"];
  phase: JobPhase;
  cursor: string | null;
  done: number;
  total: number | null;
  started: number;
  cutoff: number;
  ended: number | null;
  counts: JobCounts;
  errors: JobError[];
  flags: RunFlags;
  stepped: number;
  ops: JobRun["ops"];
  /** Items recorded by the step under way: written with the run's progress when the step finishes. */
  pending?: JobItem[];
}

export const zeroOps = (): JobRun["ops"] => ({ doCalls: 0, classA: 0, classB: 0, deletes: 0, kvWrites: 0 });

export const zeroCounts = (): JobCounts => ({ manifests: 0, tags: 0, blobLinks: 0, blobs: 0, uploads: 0, bytesFreed: 0, errors: 0 });

export class LifecycleDb {
  private readonly sql: SqlStorage;

  constructor(private readonly ctx: DurableObjectStorage) {
    this.sql = ctx.sql;
    this.sql.exec(SCHEMA);
  }

  current(): RunState | null {
    const row = this.sql.exec("SELECT * FROM runs WHERE status = 'running' ORDER BY started DESC LIMIT 1").toArray()[0];
    return row ? toState(row) : null;
  }

  get(id: string): RunState | null {
    const row = this.sql.exec("SELECT * FROM runs WHERE id = ?", id).toArray()[0];
    return row ? toState(row) : null;
  }

  list(n: number): RunState[] {
    return this.sql.exec("SELECT * FROM runs ORDER BY started DESC, id DESC LIMIT ?", n).toArray().map(toState);
  }

  /** A new run; what the previous run marked is cleared, and the oldest runs beyond HISTORY are forgotten. */
  create(run: RunState): void {
    for (const t of ["marked", "marked_uploads", "live_uploads", "marked_keys"]) this.sql.exec(`DELETE FROM ${t}`);
    this.save(run);
    for (const old of this.sql.exec("SELECT id FROM runs ORDER BY started DESC LIMIT -1 OFFSET ?", HISTORY).toArray()) {
      this.sql.exec("DELETE FROM items WHERE run = ?", old.id);
      this.sql.exec("DELETE FROM runs WHERE id = ?", old.id);
    }
  }

  /** Saves the run's progress with the items its step recorded, atomically. */
  save(r: RunState): void {
    this.ctx.transactionSync(() => {
      for (const item of r.pending ?? []) this.insertItem(r.id, item);
      r.pending = [];
      this.saveRow(r);
    });
  }

  private saveRow(r: RunState): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO runs (id, kind, options, status, phase, cursor, done, total, started, cutoff, ended, counts, errors, flags, stepped, ops)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.id, r.kind, JSON.stringify(r.options), r.status, r.phase, r.cursor, r.done, r.total, r.started, r.cutoff, r.ended,
      JSON.stringify(r.counts), JSON.stringify(r.errors), JSON.stringify(r.flags), r.stepped, JSON.stringify(r.ops),
    );
  }

  private insertItem(run: string, item: JobItem): void {
    const seq = (this.sql.exec("SELECT coalesce(max(seq), 0) AS n FROM items WHERE run = ?", run).one().n as number) + 1;
    this.sql.exec("INSERT INTO items (run, seq, kind, repository, ref, size) VALUES (?, ?, ?, ?, ?, ?)", run, seq, item.kind, item.repository, item.ref, item.size);
  }

  /** Records an item of `run` (and counts it); written when the step's progress is saved. */
  item(run: RunState, item: JobItem): void {
    if (!run.pending) run.pending = [];
    run.pending.push(item);
    const c = run.counts;
    const field = { manifest: "manifests", tag: "tags", "blob-link": "blobLinks", blob: "blobs", upload: "uploads" } as const;
    const counted = field[item.kind as keyof typeof field];
    if (counted) c[counted] += 1;
    c.bytesFreed += item.size;
  }

  items(id: string, after: number, n: number): { items: JobItem[]; next: number | null } {
    const rows = this.sql.exec("SELECT seq, kind, repository, ref, size FROM items WHERE run = ? AND seq > ? ORDER BY seq LIMIT ?", id, after, n + 1).toArray();
    const items = rows.slice(0, n).map((r) => ({ kind: r.kind as JobItem["kind"], repository: r.repository as string | null, ref: r.ref as string, size: r.size as number }));
    return { items, next: rows.length > n ? (rows[n - 1]!.seq as number) : null };
  }

  /** Records a failed item: the run goes on. */
  error(run: RunState, item: string, e: unknown): void {
    run.counts.errors += 1;
    if (run.errors.length < MAX_ERRORS) run.errors.push({ item, error: e instanceof Error ? e.message : String(e), at: new Date().toISOString() });
  }

  mark(digest: string, uploads: readonly string[]): void {
    this.sql.exec("INSERT OR IGNORE INTO marked (digest, shard) VALUES (?, ?)", digest, blobShard(digest));
    for (const u of uploads) this.sql.exec("INSERT OR IGNORE INTO marked_uploads (id) VALUES (?)", u);
  }

  markedIn(shard: string): string[] {
    return this.sql.exec("SELECT digest FROM marked WHERE shard = ?", shard).toArray().map((r) => r.digest as string);
  }

  keepKey(key: string): void {
    this.sql.exec("INSERT OR IGNORE INTO marked_keys (key) VALUES (?)", key);
  }

  keptKey(key: string): boolean {
    return this.sql.exec("SELECT 1 FROM marked_keys WHERE key = ?", key).toArray().length > 0;
  }

  liveUpload(id: string): void {
    this.sql.exec("INSERT OR IGNORE INTO live_uploads (id) VALUES (?)", id);
  }

  /** Is upload session `id`'s data still used by a link or by the blob index? */
  uploadInUse(id: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM marked_uploads WHERE id = ? UNION ALL SELECT 1 FROM live_uploads WHERE id = ?", id, id).toArray().length > 0
    );
  }
}

function toState(r: Record<string, SqlStorageValue>): RunState {
  return {
    id: r.id as string,
    kind: r.kind as JobKind,
    options: JSON.parse(r.options as string),
    status: r.status as JobRun["status"],
    phase: r.phase as JobPhase,
    cursor: r.cursor as string | null,
    done: r.done as number,
    total: r.total as number | null,
    started: r.started as number,
    cutoff: r.cutoff as number,
    ended: r.ended as number | null,
    counts: JSON.parse(r.counts as string),
    errors: JSON.parse(r.errors as string),
    flags: JSON.parse(r.flags as string),
    stepped: r.stepped as number,
    ops: { ...zeroOps(), ...JSON.parse(r.ops as string) },
  };
}

/** A run as the admin API shows it. */
export function publicRun(r: RunState): JobRun {
  return {
    id: r.id,
    kind: r.kind,
    options: r.options,
    status: r.status,
    phase: r.phase,
    progress: { phase: r.phase, done: r.done, total: r.total },
    started: new Date(r.started).toISOString(),
    ended: r.ended === null ? null : new Date(r.ended).toISOString(),
    counts: r.counts,
    errors: r.errors,
    ops: r.ops,
  };
}
