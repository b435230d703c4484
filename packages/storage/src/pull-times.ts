import { BoundedMap, type RepositoryName } from "@registry/core";
import type { Indexes } from "./indexes";

/** A tag's pull is written at most once per this period per isolate (retention counts in days). */
export const PULL_TIME_RESOLUTION_MS = 3_600_000;

/**
 * When tags were last pulled, for retention's "pulled within D days", without a storage write per pull: each
 * isolate remembers which tags it recorded in the last hour and writes a pull time only for the others (one
 * call to the repository's object), so a tag pulled a million times an hour costs one write per isolate.
 */
export class PullTimes {
  private readonly recorded = new BoundedMap<string, number>(10_000);

  constructor(private readonly indexes: Indexes) {}

  /** Notes a pull of `tag`; returns the write to wait for when one is due, else nothing. */
  note(repository: RepositoryName, tag: string, now = Date.now()): Promise<void> | undefined {
    const key = `${repository}\u0000${tag}`;
    const last = this.recorded.get(key);
    if (last !== undefined && now - last < PULL_TIME_RESOLUTION_MS) return undefined;
    this.recorded.set(key, now);
    return this.indexes.repository(repository).recordPulls([tag], now);
  }
}
