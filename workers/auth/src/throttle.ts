/**
 * Throttling of failed logins: the policy as pure functions over one failure counter. The Durable Object keeps
 * one counter per (account, client address) pair and one per client address.
 *
 * Numbers: a counter is forgotten 15 minutes after its last failure. A pair may fail 5 times, an address 20
 * times (over all accounts); from then on each further failure blocks the pair (or address) for 2 s, 4 s, 8 s, …
 * doubling up to 5 minutes. Attempts while blocked are answered 429 with `Retry-After` and are not checked or
 * counted. The block is also applied when an attempt FINISHES: an attempt that was checked while concurrent
 * failures pushed the pair over its limit is answered 429 whatever its secret (so a burst of parallel guesses
 * learns at most the first few results). A success clears the pair's counter (not the address's). Nothing locks
 * an account for good: another address still gets in, and the right secret gets in once the wait is over.
 */

/** The throttling numbers (see the module comment). */
export const THROTTLE = Object.freeze({
  windowMs: 15 * 60_000,
  pairFreeFailures: 5,
  addressFreeFailures: 20,
  baseDelayMs: 2_000,
  maxDelayMs: 5 * 60_000,
});

/** Failures counted for one key: how many, when the last one was, and until when attempts are refused. */
export interface FailureCounter {
  count: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** True when the counter is forgotten (no failure for a whole window). */
function expired(c: FailureCounter, now: number): boolean {
  return now - c.lastFailureAt >= THROTTLE.windowMs;
}

/** Milliseconds until an attempt is allowed again; 0 = allowed now. */
export function retryAfterMs(counter: FailureCounter | null, now: number): number {
  if (!counter || expired(counter, now)) return 0;
  return Math.max(0, counter.blockedUntil - now);
}

/** How long the `count`-th failure blocks, given how many failures are free: 0, then 2 s doubling to 5 min. */
export function blockDelayMs(count: number, freeFailures: number): number {
  if (count < freeFailures) return 0;
  return Math.min(THROTTLE.maxDelayMs, THROTTLE.baseDelayMs * 2 ** Math.min(count - freeFailures, 30));
}

/** The counter after one more failure at `now`. */
export function afterFailure(counter: FailureCounter | null, now: number, freeFailures: number): FailureCounter {
  const count = !counter || expired(counter, now) ? 1 : counter.count + 1;
  const delay = blockDelayMs(count, freeFailures);
  return { count, lastFailureAt: now, blockedUntil: delay > 0 ? now + delay : 0 };
}
