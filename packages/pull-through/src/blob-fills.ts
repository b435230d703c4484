import { DurableObject } from "cloudflare:workers";

/**
 * One Durable Object per cached blob key while it is being filled: a lease that lets exactly one request,
 * in any isolate or location, fetch a blob from upstream at a time. The lease lives in memory only — if
 * the object is evicted mid-fill the worst case is a second upstream fetch, never a wrong byte (every fill
 * is verified before it becomes visible).
 */
export class BlobFills extends DurableObject<Record<string, unknown>> {
  private leaseUntil = 0;

  /** True if the caller now holds the fill lease (none was held, or the last one expired). */
  claim(leaseMs: number): boolean {
    const now = Date.now();
    if (this.leaseUntil > now) return false;
    this.leaseUntil = now + leaseMs;
    return true;
  }

  release(): void {
    this.leaseUntil = 0;
  }
}
