import { DurableObject } from "cloudflare:workers";

/** What a counter says about one client after a pull (or a look). */
export interface PullAllowance {
  limit: number;
  remaining: number;
  /** Seconds until the next pull is allowed, when none is left. */
  retryAfter?: number;
}

/**
 * One Durable Object per client (an IPv4 address, an IPv6 /64 or an account): the times of its pulls in the
 * last window, in SQLite. Exact across isolates and locations, since every pull of a client goes through
 * its one object; a sliding window, like Docker Hub's "100 pulls per 6 hours".
 */
export class PullCounter extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS pulls (at INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS pulls_at ON pulls (at)");
  }

  /** Counts one pull if `count` and one is left; always reports what is left. */
  hit(limit: number, windowSec: number, count: boolean): PullAllowance {
    const now = Date.now();
    const since = now - windowSec * 1000;
    this.sql.exec("DELETE FROM pulls WHERE at <= ?", since);
    const used = Number(this.sql.exec("SELECT count(*) AS n FROM pulls").one().n);
    if (count && used >= limit) {
      const oldest = Number(this.sql.exec("SELECT min(at) AS at FROM pulls").one().at);
      return { limit, remaining: 0, retryAfter: Math.max(1, Math.ceil((oldest + windowSec * 1000 - now) / 1000)) };
    }
    if (count) this.sql.exec("INSERT INTO pulls (at) VALUES (?)", now);
    return { limit, remaining: Math.max(0, limit - used - (count ? 1 : 0)) };
  }
}
