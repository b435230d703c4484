import { describe, expect, test } from "vitest";
import { ScopeError, formatScope, parseScope, parseScopes } from "../src/index";
import type { Scope } from "../src/index";

// Docker "Token Scope Documentation" § Resource Scope Grammar.
describe("parseScope", () => {
  test.each<[string, Scope, string]>([
    ["repository:library/alpine:pull", { type: "repository", name: "library/alpine", actions: ["pull"] }, "repository:library/alpine:pull"],
    [
      "repository:localhost:5000/foo/bar:pull,push",
      { type: "repository", name: "localhost:5000/foo/bar", actions: ["pull", "push"] },
      "repository:localhost:5000/foo/bar:pull,push",
    ],
    ["registry:catalog:*", { type: "registry", name: "catalog", actions: ["*"] }, "registry:catalog:*"],
    ["repository(plugin):x/y:pull", { type: "repository(plugin)", name: "x/y", actions: ["pull"] }, "repository(plugin):x/y:pull"],
    ["repository:a:push,pull", { type: "repository", name: "a", actions: ["push", "pull"] }, "repository:a:pull,push"],
    ["repository:a:pull,pull,push", { type: "repository", name: "a", actions: ["pull", "push"] }, "repository:a:pull,push"],
    ["repository:ghcr.io/org/app:delete", { type: "repository", name: "ghcr.io/org/app", actions: ["delete"] }, "repository:ghcr.io/org/app:delete"],
    ["repository:a/b:*", { type: "repository", name: "a/b", actions: ["*"] }, "repository:a/b:*"],
  ])("%s", (s, expected, formatted) => {
    expect(parseScope(s)).toEqual(expected);
    expect(formatScope(parseScope(s))).toBe(formatted);
  });

  test.each([
    ["uppercase repository", "repository:Foo:pull"],
    ["empty name", "repository::pull"],
    ["no actions part", "repository:a"],
    ["empty action", "repository:a:"],
    ["empty action in list", "repository:a:pull,"],
    ["empty", ""],
    ["whitespace", "   "],
    ["uppercase type", "Repository:a:pull"],
    ["empty type", ":a:pull"],
    ["uppercase action", "repository:a:PULL"],
    ["bad host prefix", "repository:bad_host:5000/a:pull"],
    ["bad path after host", "repository:localhost:5000/A:pull"],
    ["unclosed class", "repository(plugin:x:pull"],
    ["space in name", "registry:cat alog:*"],
  ])("%s (%j) throws ScopeError", (_, s) => {
    let thrown: unknown;
    try {
      parseScope(s);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ScopeError);
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as ScopeError).code).toBe("SCOPE_INVALID");
  });
});

describe("parseScopes", () => {
  test.each<[string, string[]]>([
    ["", []],
    ["   ", []],
    ["repository:a:pull", ["repository:a:pull"]],
    ["repository:a:pull repository:b:push,pull", ["repository:a:pull", "repository:b:pull,push"]],
    ["  repository:a:pull   registry:catalog:*  ", ["repository:a:pull", "registry:catalog:*"]],
  ])("%j", (s, expected) => {
    expect(parseScopes(s).map(formatScope)).toEqual(expected);
  });

  test("one bad part fails the whole list", () => {
    expect(() => parseScopes("repository:a:pull repository:A:pull")).toThrow(ScopeError);
  });
});

describe("formatScope", () => {
  test("sorts and de-duplicates actions", () => {
    expect(formatScope({ type: "repository", name: "x", actions: ["push", "pull", "push", "delete"] })).toBe("repository:x:delete,pull,push");
  });
});
