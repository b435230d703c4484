import { describe, expect, test } from "vitest";
import { isRepositoryPattern, isTagPattern, matchesRepositoryPattern, matchesTagPattern, tagRuleCovers } from "../src/index";

describe("repository patterns", () => {
  test.each<[string, string, boolean]>([
    ["*", "anything/at/all", true],
    ["org/*", "org/app", true],
    ["org/*", "org/team/app", true],
    ["org/*", "org", false],
    ["org/*", "organisation/app", false],
    ["org/*", "other/org/app", false],
    ["org/app", "org/app", true],
    ["org/app", "org/app2", false],
    ["org/app", "org/app/sub", false],
  ])("%s matches %s: %s", (pattern, name, expected) => {
    expect(matchesRepositoryPattern(pattern, name)).toBe(expected);
  });

  test.each([
    ["*", true],
    ["org/*", true],
    ["a/b/*", true],
    ["org/app", true],
    ["org/**", false],
    ["*/app", false],
    ["org*", false],
    ["", false],
    ["Org/app", false],
    ["org/*/x", false],
  ])("%j is a valid pattern: %s", (pattern, ok) => {
    expect(isRepositoryPattern(pattern as string)).toBe(ok);
  });
});

describe("tag patterns", () => {
  test.each<[string, string, boolean]>([
    ["latest", "latest", true],
    ["latest", "latest2", false],
    ["v*", "v1.2.3", true],
    ["v*", "release-1", false],
    ["*", "anything", true],
    ["release-?", "release-1", true],
    ["release-?", "release-10", false],
    ["v1.*", "v1.2", true],
    ["v1.*", "v1x2", false],
    ["sha256-*.sig", "sha256-abc.sig", true],
    ["sha256-*.sig", "sha256-abc.att", false],
  ])("%s matches %s: %s", (pattern, tag, expected) => {
    expect(matchesTagPattern(pattern, tag)).toBe(expected);
  });

  test.each([
    ["latest", true],
    ["v*", true],
    ["*", true],
    ["release-?.*", true],
    ["", false],
    [".hidden", false],
    ["-x", false],
    ["a/b", false],
    ["x".repeat(129), false],
  ])("%j is a valid tag pattern: %s", (pattern, ok) => {
    expect(isTagPattern(pattern as string)).toBe(ok);
  });
});

describe("tag rules and cosign's tags", () => {
  const sig = `sha256-${"a".repeat(64)}.sig`;
  test.each<[string, string, boolean]>([
    ["*", "v1", true],
    ["*", sig, false],
    ["*", `sha256-${"a".repeat(64)}.att`, false],
    ["*", `sha256-${"a".repeat(64)}.sbom`, false],
    ["sha256-*", sig, true],
    ["sha256-*.sig", sig, true],
    ["v*", "v2", true],
    ["*", "sha256-short.sig", true],
  ])("%s covers %s: %s", (pattern, tag, expected) => {
    expect(tagRuleCovers(pattern, tag)).toBe(expected);
  });
});
