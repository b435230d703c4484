import { DurableObject } from "cloudflare:workers";

/** What a counter says about one client after a pull is taken, given back, or looked at. */
export interface PullAllowance {
  limit: number;
  remaining: number;
  /** Seconds until the next pull is allowed, when none is left (nothing was taken). */
  retryAfter?: number;
}

/** A pull taken but not yet served: given back if the pull fails (see PullCounter.giveBack). */
export interface PullSlot {
  id: number;
  at: number;
}

/**
 * One Durable Object per client (an IPv4 address, an IPv6 /64 or an account): the times of its pulls in the
 * last window, in SQLite. Exact across isolates and locations, since every pull of a client goes through
 * its one object; a sliding window, like Docker Hub's "100 pulls per 6 hours". A pull is taken before it is
 * served (so concurrent pulls can never pass the limit together) and given back when it is not served.
 */
export class PullCounter extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS pulls (at INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS pulls_at ON pulls (at)");
  }

  /** Takes one pull if one is left (with the slot to give back), else says when the next one will be. */
  take(limit: number, windowSec: number): PullAllowance & { slot?: PullSlot } {
    const now = Date.now();
    const used = this.used(now, windowSec);
    if (used >= limit) {
      const oldest = Number(this.sql.exec("SELECT min(at) AS at FROM pulls").one().at);
      return { limit, remaining: 0, retryAfter: Math.max(1, Math.ceil((oldest + windowSec * 1000 - now) / 1000)) };
    }
    const id = Number(this.sql.exec("INSERT INTO pulls (at) VALUES (?) RETURNING rowid AS id", now).one().id);
    return { limit, remaining: Math.max(0, limit - used - 1), slot: { id, at: now } };
  }

  /** Gives back a pull taken for a request that was not served; reports what is left. */
  giveBack(slot: PullSlot, limit: number, windowSec: number): PullAllowance {
    this.sql.exec("DELETE FROM pulls WHERE rowid = ? AND at = ?", slot.id, slot.at);
    return this.look(limit, windowSec);
  }

  /** What is left, taking nothing. */
  look(limit: number, windowSec: number): PullAllowance {
    return { limit, remaining: Math.max(0, limit - this.used(Date.now(), windowSec)) };
  }

  /** Pulls in the window ending now (older ones are forgotten). */
  private used(now: number, windowSec: number): number {
    this.sql.exec("DELETE FROM pulls WHERE at <= ?", now - windowSec * 1000);
    return Number(this.sql.exec("SELECT count(*) AS n FROM pulls").one().n);
  }
}
