import { describe, expect, test } from "vitest";
import {
  MAX_AUTHORIZATION_BYTES,
  allowedActions,
  baseResourceType,
  expandRepositoryActions,
  formatChallenge,
  parseBearer,
  type AccessClaims,
} from "../src/index";
import { claims } from "./helpers";

const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

describe("parseBearer", () => {
  test.each<[string | null, string | null]>([
    [`Bearer ${JWT}`, JWT],
    [`bearer ${JWT}`, JWT],
    [`BEARER  ${JWT} `, JWT],
    [null, null],
    ["", null],
    ["Bearer", null],
    ["Bearer ", null],
    [`Basic ${JWT}`, null],
    ["Basic dXNlcjpwYXNz", null],
    [`Token ${JWT}`, null],
    [`Bearer${JWT}`, null],
    ["Bearer a.b", null],
    ["Bearer a.b.c.d", null],
    ["Bearer a..c", null],
    [`Bearer ${JWT} extra`, null],
    [`Bearer ${JWT}=`, null],
    ["Bearer é.é.é", null],
    [`Bearer ${JWT}\r\nX-Evil: 1`, null],
    [`Bearer ${"a".repeat(MAX_AUTHORIZATION_BYTES)}.b.c`, null],
  ])("%j → %j", (header, expected) => {
    expect(parseBearer(header)).toBe(expected);
  });

  test("never throws on any input", () => {
    for (const h of [undefined, 42, {}, "\u0000", "Bearer \u0000.\u0000.\u0000"]) {
      expect(parseBearer(h as unknown as string)).toBeNull();
    }
  });
});

describe("allowedActions", () => {
  const token = (access: AccessClaims["access"]): AccessClaims => claims({ access });

  test("access for repository A is nothing for repository B (or a prefix / other type of it)", () => {
    const c = token([{ type: "repository", name: "org/a", actions: ["pull", "push"] }]);
    expect(allowedActions(c, "repository", "org/a")).toEqual(["pull", "push"]);
    expect(allowedActions(c, "repository", "org/b")).toEqual([]);
    expect(allowedActions(c, "repository", "org")).toEqual([]);
    expect(allowedActions(c, "repository", "org/a/sub")).toEqual([]);
    expect(allowedActions(c, "repository", "ORG/A")).toEqual([]);
    expect(allowedActions(c, "registry", "org/a")).toEqual([]);
  });

  test("a pull-only token does not allow push or delete", () => {
    const c = token([{ type: "repository", name: "a/app", actions: ["pull"] }]);
    expect(allowedActions(c, "repository", "a/app")).toEqual(["pull"]);
    expect(allowedActions(c, "repository", "a/app")).not.toContain("push");
    expect(allowedActions(c, "repository", "a/app")).not.toContain("delete");
  });

  test("* expands to pull, push, delete for repositories; entries merge; resource classes are ignored", () => {
    expect(allowedActions(token([{ type: "repository", name: "x", actions: ["*"] }]), "repository", "x")).toEqual(["pull", "push", "delete"]);
    const c = token([
      { type: "repository", name: "x", actions: ["pull"] },
      { type: "repository(plugin)", name: "x", actions: ["push"] },
    ]);
    expect(allowedActions(c, "repository", "x")).toEqual(["pull", "push"]);
    expect(allowedActions(c, "repository(plugin)", "x")).toEqual(["pull", "push"]);
  });

  test("registry catalog keeps * as written", () => {
    const c = token([{ type: "registry", name: "catalog", actions: ["*"] }]);
    expect(allowedActions(c, "registry", "catalog")).toEqual(["*"]);
    expect(allowedActions(token([]), "registry", "catalog")).toEqual([]);
  });
});

describe("action lists and resource types (shared with the auth service)", () => {
  test.each<[string[], string[]]>([
    [["*"], ["pull", "push", "delete"]],
    [["push", "*"], ["push", "pull", "delete"]],
    [["pull", "pull"], ["pull"]],
    [["delete", "frobnicate"], ["delete", "frobnicate"]],
    [[], []],
  ])("expandRepositoryActions(%j) → %j", (actions, expected) => {
    expect([...expandRepositoryActions(actions)]).toEqual(expected);
  });

  test.each([
    ["repository", "repository"],
    ["repository(plugin)", "repository"],
    ["registry", "registry"],
  ])("baseResourceType(%s) → %s", (type, expected) => {
    expect(baseResourceType(type)).toBe(expected);
  });
});

describe("formatChallenge", () => {
  test("realm, service, scope and error, in order", () => {
    expect(formatChallenge({ realm: "https://auth.example/token", service: "edge-registry" })).toBe(
      'Bearer realm="https://auth.example/token",service="edge-registry"',
    );
    expect(
      formatChallenge({ realm: "r", service: "s", scope: "repository:a/b:pull,push", error: "insufficient_scope" }),
    ).toBe('Bearer realm="r",service="s",scope="repository:a/b:pull,push",error="insufficient_scope"');
  });

  test("values are quote-escaped and cannot inject parameters or header lines", () => {
    const header = formatChallenge({ realm: 'a"b\\c', service: 's",evil="1', scope: "x\r\nSet-Cookie: y" });
    expect(header).toBe('Bearer realm="a\\"b\\\\c",service="s\\",evil=\\"1",scope="xSet-Cookie: y"');
    expect(() => new Headers({ "WWW-Authenticate": header })).not.toThrow();
  });
});
