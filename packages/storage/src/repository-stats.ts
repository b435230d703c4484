/**
 * A repository's pull statistics and tag details, over its index's tables (repository-index.ts delegates here):
 * pull counts and last pull times arrive in batches from the isolates (pull-stats.ts), never one write per pull.
 */

/** Pulls of one tag since the last batch. */
export interface PullCount {
  tag: string;
  count: number;
}

/** A tag with what the registry's page and `pnpm admin stats` show of it. */
export interface TagDetail {
  name: string;
  digest: string;
  mediaType: string;
  size: number;
  /** When the tag was last pushed (set or moved), ms since the epoch. */
  pushedAt: number;
  /** When it was last pulled (as recorded by the batches), or null. */
  pulledAt: number | null;
  pulls: number;
}

/** Adds a batch of pull counts, all pulled at or before `at`. */
export function recordPulls(sql: SqlStorage, counts: readonly PullCount[], at: number): void {
  for (const { tag, count } of counts) {
    sql.exec(
      "UPDATE tags SET pulls = pulls + ?, pulled_at = max(coalesce(pulled_at, 0), ?) WHERE name = ?",
      Math.max(0, Math.floor(count)),
      at,
      tag,
    );
  }
}

/** Tags in byte order after `last` (at most `n`), with their manifest's media type and size and their statistics. */
export function tagDetails(sql: SqlStorage, n: number, last?: string): { items: TagDetail[]; more: boolean } {
  const rows = sql
    .exec(
      `SELECT t.name, t.digest, m.media_type, m.size, t.checked_at, t.pulled_at, t.pulls
       FROM tags t JOIN manifests m ON m.digest = t.digest WHERE t.name > ? ORDER BY t.name LIMIT ?`,
      last ?? "",
      n + 1,
    )
    .toArray();
  const items = rows.slice(0, n).map((r) => ({
    name: r.name as string,
    digest: r.digest as string,
    mediaType: r.media_type as string,
    size: r.size as number,
    pushedAt: r.checked_at as number,
    pulledAt: (r.pulled_at as number | null) ?? null,
    pulls: r.pulls as number,
  }));
  return { items, more: rows.length > n };
}

/** The repository's totals: tags, manifests and pulls. */
export function repositoryTotals(sql: SqlStorage): { tags: number; manifests: number; pulls: number } {
  const tags = sql.exec("SELECT count(*) AS n, coalesce(sum(pulls), 0) AS pulls FROM tags").one();
  const manifests = sql.exec("SELECT count(*) AS n FROM manifests").one().n as number;
  return { tags: tags.n as number, manifests, pulls: tags.pulls as number };
}
