import { describe, expect, test } from "vitest";
import type { RetentionRule } from "../src/lifecycle-types";
import { planRetention, type RetentionTag, retentionRuleProblem, rulesFor } from "../src/retention";

/** Retention's planner (issue 10 §2): which tags a repository's rules keep; pure, so a table of cases. */
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const SIG = `sha256-${"a".repeat(64)}.sig`;
const ATT = `sha256-${"b".repeat(64)}.att`;

let nextId = 0;
function rule(r: Partial<RetentionRule>): RetentionRule {
  return { id: `r${nextId++}`, repository: "*", keepLast: null, keepTags: null, keepDays: null, created: "2026-11-30T00:00:00.000Z", ...r };
}

/** A tag pushed `daysAgo` days before NOW, pulled `pulledDaysAgo` days before NOW (never when absent). */
function tag(name: string, daysAgo: number, pulledDaysAgo?: number): RetentionTag {
  return { name, pushedAt: NOW - daysAgo * DAY, pulledAt: pulledDaysAgo === undefined ? null : NOW - pulledDaysAgo * DAY };
}

const TAGS = [tag("v1", 30), tag("v2", 20, 1), tag("v3", 10), tag("latest", 1), tag("dev-a", 40), tag("dev-b", 5), tag(SIG, 50), tag(ATT, 50)];

const cases: { name: string; rules: RetentionRule[]; tags?: RetentionTag[]; keep: string[] }[] = [
  { name: "no rules keep everything", rules: [], keep: TAGS.map((t) => t.name) },
  { name: "keepLast 2: the two most recently pushed (cosign tags do not count)", rules: [rule({ keepLast: 2 })], keep: ["latest", "dev-b", SIG, ATT] },
  { name: "keepLast 0 keeps nothing by itself (cosign tags stay)", rules: [rule({ keepLast: 0 })], keep: [SIG, ATT] },
  { name: "keepLast larger than the tags keeps all", rules: [rule({ keepLast: 100 })], keep: TAGS.map((t) => t.name) },
  { name: "keepTags glob", rules: [rule({ keepTags: "v*" })], keep: ["v1", "v2", "v3", SIG, ATT] },
  { name: "keepTags with ?", rules: [rule({ keepTags: "dev-?" })], keep: ["dev-a", "dev-b", SIG, ATT] },
  { name: "keepDays: pushed or pulled within the window", rules: [rule({ keepDays: 7 })], keep: ["v2", "latest", "dev-b", SIG, ATT] },
  { name: "keepDays may be fractional", rules: [rule({ keepDays: 1.5 })], keep: ["v2", "latest", SIG, ATT] },
  {
    name: "criteria of one rule combine (any keeps)",
    rules: [rule({ keepLast: 1, keepTags: "v1", keepDays: 6 })],
    keep: ["v1", "v2", "latest", "dev-b", SIG, ATT],
  },
  {
    name: "rules combine (any keeps)",
    rules: [rule({ keepTags: "v3" }), rule({ keepLast: 1 })],
    keep: ["v3", "latest", SIG, ATT],
  },
  {
    name: "ties in push time are broken by name",
    rules: [rule({ keepLast: 2 })],
    tags: [tag("c", 1), tag("a", 1), tag("b", 1), tag("z", 2)],
    keep: ["a", "b"],
  },
  { name: "a window boundary is inclusive", rules: [rule({ keepDays: 10 })], tags: [tag("edge", 10), tag("out", 10.001)], keep: ["edge"] },
];

describe("planRetention", () => {
  test.each(cases)("$name", ({ rules, tags = TAGS, keep }) => {
    const plan = planRetention(tags, rules, NOW);
    expect(plan.keep).toEqual([...keep].sort());
    expect(plan.remove).toEqual(tags.map((t) => t.name).filter((n) => !keep.includes(n)).sort());
  });

  test("an empty repository", () => {
    expect(planRetention([], [rule({ keepLast: 1 })], NOW)).toEqual({ keep: [], remove: [] });
  });
});

describe("rulesFor", () => {
  const all = rule({ repository: "*", keepLast: 1 });
  const org = rule({ repository: "org/*", keepLast: 2 });
  const one = rule({ repository: "org/app", keepLast: 3 });
  test.each([
    ["org/app", [all, org, one]],
    ["org/other", [all, org]],
    ["org", [all]],
    ["other/app", [all]],
  ] as const)("%s", (repository, expected) => {
    expect(rulesFor(repository, [all, org, one])).toEqual(expected);
  });
});

describe("retentionRuleProblem", () => {
  test.each([
    [{ repository: "org/*", keepLast: 5 }, null],
    [{ repository: "*", keepTags: "v*" }, null],
    [{ repository: "app", keepDays: 0.5 }, null],
    [{ repository: "app", keepLast: 0, keepTags: null, keepDays: null }, null],
    [{ repository: "Bad", keepLast: 1 }, /repository/],
    [{ keepLast: 1 }, /repository/],
    [{ repository: "app" }, /at least one/],
    [{ repository: "app", keepLast: null, keepTags: null, keepDays: null }, /at least one/],
    [{ repository: "app", keepLast: -1 }, /keepLast/],
    [{ repository: "app", keepLast: 1.5 }, /keepLast/],
    [{ repository: "app", keepLast: "3" }, /keepLast/],
    [{ repository: "app", keepTags: "v 1" }, /keepTags/],
    [{ repository: "app", keepTags: "" }, /keepTags/],
    [{ repository: "app", keepDays: 0 }, /keepDays/],
    [{ repository: "app", keepDays: Number.POSITIVE_INFINITY }, /keepDays/],
    [{ repository: "app", keepDays: "7" }, /keepDays/],
  ] as const)("%j", (input, expected) => {
    const problem = retentionRuleProblem(input);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});
