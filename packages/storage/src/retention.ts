import { cosignSubject, isRepositoryPattern, isTagPattern, matchesRepositoryPattern, matchesTagPattern } from "@registry/core";
import type { RetentionRule } from "./lifecycle-types";

/**
 * Retention (issue 10 §2), the pure part: which tags of a repository its rules keep. A retention run asks each
 * repository for its tags with their push and pull times, calls planRetention with the rules that match it, and
 * removes the tags in `remove`; garbage collection then frees what no tag keeps any more. No I/O here.
 */

/** One tag as retention sees it: when it was last pushed (moved) and pulled, in milliseconds since the epoch. */
export interface RetentionTag {
  name: string;
  pushedAt: number;
  /** null when never pulled (or not since pull times were recorded). */
  pulledAt: number | null;
}

/** What a rule is made of, before the policy store gives it an id and a creation time. */
export type RetentionRuleInput = Pick<RetentionRule, "repository" | "keepLast" | "keepTags" | "keepDays">;


const DAY_MS = 86_400_000;

/** The rules whose repository pattern (core's matchesRepositoryPattern) matches `repository`. */
export function rulesFor(repository: string, rules: readonly RetentionRule[]): RetentionRule[] {
  return rules.filter((rule) => matchesRepositoryPattern(rule.repository, repository));
}

/**
 * Splits a repository's tags into those its rules keep and those a retention run removes. A tag is kept when any
 * criterion of any rule keeps it: it is among the rule's `keepLast` most recently pushed tags (ties broken by
 * name), it matches the rule's `keepTags` glob, or it was pushed or pulled within `keepDays` days before `now`.
 * No rules keep everything; cosign's signature, attestation and SBOM tags are always kept and do not count
 * toward `keepLast`. Both lists come sorted by name. Throws nothing.
 *
 * @param rules the rules that match the repository (see rulesFor)
 * @param now   milliseconds since the epoch
 */
export function planRetention(
  tags: readonly RetentionTag[],
  rules: readonly RetentionRule[],
  now: number,
): { keep: string[]; remove: string[] } {
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (rules.length === 0) return { keep: tags.map((t) => t.name).sort(byName), remove: [] };
  const kept = new Set(tags.filter((t) => cosignSubject(t.name) !== null).map((t) => t.name));
  const candidates = tags.filter((t) => !kept.has(t.name));
  const newestFirst = [...candidates].sort((a, b) => b.pushedAt - a.pushedAt || byName(a.name, b.name));
  for (const rule of rules) {
    if (rule.keepLast !== null) for (const t of newestFirst.slice(0, rule.keepLast)) kept.add(t.name);
    for (const t of candidates) {
      if (rule.keepTags !== null && matchesTagPattern(rule.keepTags, t.name)) kept.add(t.name);
      if (rule.keepDays !== null && within(t, now - rule.keepDays * DAY_MS)) kept.add(t.name);
    }
  }
  const keep: string[] = [];
  const remove: string[] = [];
  for (const t of tags) (kept.has(t.name) ? keep : remove).push(t.name);
  return { keep: keep.sort(byName), remove: remove.sort(byName) };
}

function within(tag: RetentionTag, since: number): boolean {
  return tag.pushedAt >= since || (tag.pulledAt !== null && tag.pulledAt >= since);
}

/**
 * What is wrong with a rule as given (e.g. in an admin request), or null when it is a valid rule: `repository` a
 * repository pattern (`*`, `org/*` or a name), and at least one of `keepLast` (an integer ≥ 0), `keepTags` (a tag
 * glob of tag characters, `*` and `?`) and `keepDays` (a number > 0); absent criteria are null.
 */
export function retentionRuleProblem(rule: {
  repository?: unknown;
  keepLast?: unknown;
  keepTags?: unknown;
  keepDays?: unknown;
}): string | null {
  const { repository, keepLast = null, keepTags = null, keepDays = null } = rule;
  if (typeof repository !== "string" || !isRepositoryPattern(repository)) {
    return 'repository must be "*", "org/*" or a repository name';
  }
  if (keepLast !== null && !(typeof keepLast === "number" && Number.isSafeInteger(keepLast) && keepLast >= 0)) {
    return "keepLast must be an integer ≥ 0";
  }
  if (keepTags !== null && !(typeof keepTags === "string" && isTagPattern(keepTags))) {
    return "keepTags must be a tag or a glob of tag characters, * and ?";
  }
  if (keepDays !== null && !(typeof keepDays === "number" && Number.isFinite(keepDays) && keepDays > 0)) {
    return "keepDays must be a number > 0";
  }
  if (keepLast === null && keepTags === null && keepDays === null) {
    return "a rule needs at least one of keepLast, keepTags and keepDays";
  }
  return null;
}
