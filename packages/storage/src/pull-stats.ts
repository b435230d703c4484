import { BoundedMap, type RepositoryName } from "@registry/core";
import type { Indexes } from "./indexes";
import type { PullCount } from "./repository-stats";

/** How often an isolate writes a repository's pull counts, at most (ms; PULL_STATS_FLUSH overrides it). */
export const PULL_STATS_FLUSH_MS = 60_000;

/**
 * Pull counts and last pull times per tag (the web page, `pnpm admin stats`, retention's "pulled within D days"),
 * without a storage write per pull: each isolate counts pulls in memory and writes a repository's counts in one
 * call to its object at most once per `flushMs` — on the first pull after that time (so the first pull an isolate
 * sees is written at once). Counts an isolate holds when it is evicted are lost: the statistics are a lower bound,
 * exact within a minute for a repository that keeps being pulled.
 */
export class PullStats {
  private readonly pending = new BoundedMap<string, Map<string, number>>(10_000);
  private readonly flushed = new BoundedMap<string, number>(10_000);

  constructor(
    private readonly indexes: Indexes,
    private readonly flushMs = PULL_STATS_FLUSH_MS,
  ) {}

  /** Counts a pull of `tag`; returns the write to wait for when the repository's batch is due, else nothing. */
  note(repository: RepositoryName, tag: string, now = Date.now()): Promise<void> | undefined {
    const counts = this.pending.get(repository) ?? new Map<string, number>();
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
    this.pending.set(repository, counts);
    const last = this.flushed.get(repository);
    if (last !== undefined && now - last < this.flushMs) return undefined;
    this.flushed.set(repository, now);
    this.pending.delete(repository);
    const batch: PullCount[] = [...counts].map(([t, count]) => ({ tag: t, count }));
    return this.indexes.repository(repository).recordPulls(batch, now);
  }
}
