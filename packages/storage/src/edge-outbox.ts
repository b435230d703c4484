import { BoundedMap } from "@registry/core";
import { edgeKey, parseEdgeKey, type EdgeEntry, type EdgeValue } from "./edge-keys";

/**
 * The outbox of a repository's index: how changes committed to the Durable Object reach the edge index in KV.
 *
 * A change marks the KV keys it touched **in the same transaction** as the change itself (a row per key in
 * `edge_outbox`); after the commit, the keys are published one at a time, in the order they were marked, each
 * with the value the index holds *at publish time* (or deleted when it holds none). So the last write to a key is
 * always the truth, whatever failed or raced before it; a failed write stays in the outbox and is retried with
 * backoff from the object's alarm; a push never waits for KV and never fails because of it. An object evicted
 * with keys still marked publishes them when it next starts (and its alarm wakes it if nothing else does).
 *
 * KV allows about one write per second per key: marks of one key coalesce (one row per key), and a backfill (a
 * key found missing at the edge) is skipped while the key is marked or was published in the last minute.
 */
export const OUTBOX_SCHEMA = `
  CREATE TABLE IF NOT EXISTS edge_outbox (
    key TEXT PRIMARY KEY, seq INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    due INTEGER NOT NULL DEFAULT 0, error TEXT);
  CREATE INDEX IF NOT EXISTS edge_outbox_due ON edge_outbox (due, seq);
`;

/** The safety-net alarm after a mark: publishing normally finishes long before it fires. */
const SAFETY_NET_MS = 30_000;
/** A backfill of a key published this recently is skipped (the edge is still catching up). */
const RECENT_MS = 60_000;
const BATCH = 64;

/** Delay before retry number `attempts` (1, 2, 4 … 300 s). */
export function retryDelayMs(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts - 1)) * 1000;
}

export class EdgeOutbox {
  private pending = false;
  private unarmed = false;
  private running: Promise<void> | undefined;
  private readonly recent = new BoundedMap<string, number>(4096);

  /**
   * @param kv the edge index; without it (the mirror) nothing is marked or published.
   * @param truth the value a key should hold now, from the index's tables; null when it should not exist.
   */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly kv: KVNamespace | undefined,
    private readonly truth: (entry: EdgeEntry) => EdgeValue | null,
  ) {
    if (!kv) return;
    storage.sql.exec(OUTBOX_SCHEMA);
    if (this.count() > 0) void this.publish();
  }

  /** Marks keys a change touched; call inside the change's transaction. Returns how many KV writes it queued. */
  mark(entries: readonly EdgeEntry[]): number {
    if (!this.kv) return 0;
    for (const entry of entries) {
      this.storage.sql.exec(
        `INSERT INTO edge_outbox (key, seq) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM edge_outbox))
         ON CONFLICT (key) DO UPDATE SET seq = excluded.seq, attempts = 0, due = 0, error = NULL`,
        edgeKey(entry),
      );
    }
    this.unarmed = true;
    return entries.length;
  }

  /** Asks for a key found missing at the edge to be published (no-op when marked or published recently). */
  backfill(entry: EdgeEntry): void {
    if (!this.kv) return;
    const key = edgeKey(entry);
    const at = this.recent.get(key);
    if (at !== undefined && Date.now() - at < RECENT_MS) return;
    this.storage.sql.exec(
      "INSERT OR IGNORE INTO edge_outbox (key, seq) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM edge_outbox))",
      key,
    );
    this.recent.set(key, Date.now());
    void this.publish();
  }

  /**
   * Publishes every due key in order (arming the safety-net alarm first when keys were marked); resolves when
   * none is left due (a failed key waits for its retry). Call it after the marking transaction committed.
   */
  publish(): Promise<void> {
    if (!this.kv) return Promise.resolve();
    this.pending = true;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The object's alarm: publish, then wake again for the earliest retry still waiting. */
  async alarm(): Promise<void> {
    await this.publish();
    const next = this.storage.sql.exec("SELECT MIN(due) AS due FROM edge_outbox").toArray()[0]?.due as number | null;
    if (next !== null && next !== undefined) await this.arm(Math.max(next, Date.now() + 1000));
  }

  /** Keys waiting to be published. */
  count(): number {
    if (!this.kv) return 0;
    return this.storage.sql.exec("SELECT COUNT(*) AS n FROM edge_outbox").one().n as number;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      this.pending = false;
      if (this.unarmed) {
        this.unarmed = false;
        await this.arm(Date.now() + SAFETY_NET_MS);
      }
      await this.publishDue();
    }
  }

  private async publishDue(): Promise<void> {
    const kv = this.kv!;
    for (;;) {
      const rows = this.storage.sql
        .exec("SELECT key, seq, attempts FROM edge_outbox WHERE due <= ? ORDER BY seq LIMIT ?", Date.now(), BATCH)
        .toArray();
      if (rows.length === 0) return;
      for (const row of rows) {
        const key = row.key as string;
        const entry = parseEdgeKey(key);
        try {
          const value = entry ? this.truth(entry) : null;
          if (value) await kv.put(key, value.value, value.metadata ? { metadata: value.metadata } : {});
          else await kv.delete(key);
          this.storage.sql.exec("DELETE FROM edge_outbox WHERE key = ? AND seq = ?", key, row.seq);
          this.recent.set(key, Date.now());
        } catch (e) {
          const attempts = (row.attempts as number) + 1;
          const due = Date.now() + retryDelayMs(attempts);
          this.storage.sql.exec(
            "UPDATE edge_outbox SET attempts = ?, due = ?, error = ? WHERE key = ? AND seq = ?",
            attempts,
            due,
            String(e instanceof Error ? e.message : e).slice(0, 500),
            key,
            row.seq,
          );
          await this.arm(due);
        }
      }
    }
  }

  /** Sets the alarm to `at` unless one is already due earlier. */
  private async arm(at: number): Promise<void> {
    const current = await this.storage.getAlarm();
    if (current !== null && current <= at) return;
    await this.storage.setAlarm(at);
  }
}
