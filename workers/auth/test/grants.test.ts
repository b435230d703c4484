import { parseScope } from "@registry/core";
import { describe, expect, test } from "vitest";
import { grantAccess, type Principal } from "../src/grants";
import { anonymousPullRules } from "../src/rules";
import { parseAuthorization } from "../src/credentials";

describe("ANONYMOUS_PULL", () => {
  test("ANONYMOUS_PULL: comma-separated, blanks ignored, invalid patterns refused", () => {
    expect(anonymousPullRules("")).toEqual([]);
    expect(anonymousPullRules(undefined)).toEqual([]);
    expect(anonymousPullRules(" public/* , library/alpine,")).toEqual([
      { repository: "public/*", actions: ["pull"] },
      { repository: "library/alpine", actions: ["pull"] },
    ]);
    expect(() => anonymousPullRules("public/**")).toThrow(/ANONYMOUS_PULL/);
  });
});

describe("grantAccess", () => {
  const principal: Principal = {
    subject: "robot$ci",
    rules: [
      { repository: "ci/*", actions: ["pull", "push"] },
      { repository: "ci/special", actions: ["delete"] },
      { repository: "*", actions: ["pull"] },
    ],
    catalog: false,
  };
  const grant = (scopes: string[], p = principal) => grantAccess(scopes.map(parseScope), p);

  test("rules add up; requested * means all three; unknown actions and types are dropped", () => {
    expect(grant(["repository:ci/special:*"])).toEqual([{ type: "repository", name: "ci/special", actions: ["pull", "push", "delete"] }]);
    expect(grant(["repository:ci/app:*"])).toEqual([{ type: "repository", name: "ci/app", actions: ["pull", "push"] }]);
    expect(grant(["repository:x/y:push,pull,frobnicate"])).toEqual([{ type: "repository", name: "x/y", actions: ["pull"] }]);
    expect(grant(["widget:x:pull", "registry:catalog:*", "registry:catalog:pull"])).toEqual([]);
  });

  test("host-prefixed names are matched as written", () => {
    expect(grant(["repository:localhost:5000/ci/app:push"])).toEqual([]);
    expect(grant(["repository:localhost:5000/ci/app:pull"])).toEqual([{ type: "repository", name: "localhost:5000/ci/app", actions: ["pull"] }]);
  });

  test("catalog needs the right and the * action", () => {
    const p = { ...principal, catalog: true };
    expect(grant(["registry:catalog:*"], p)).toEqual([{ type: "registry", name: "catalog", actions: ["*"] }]);
    expect(grant(["registry:catalog:pull"], p)).toEqual([]);
  });
});

describe("credentials", () => {
  test("Basic parsing keeps colons in the secret and UTF-8 names", () => {
    const enc = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
    expect(parseAuthorization(`Basic ${enc("robot$ci:a:b:c")}`)).toEqual({ kind: "basic", credentials: { username: "robot$ci", password: "a:b:c" } });
    expect(parseAuthorization(`basic   ${enc("jürgen:pw")} `)).toEqual({ kind: "basic", credentials: { username: "jürgen", password: "pw" } });
    expect(parseAuthorization(null)).toEqual({ kind: "none" });
    expect(parseAuthorization("  ")).toEqual({ kind: "none" });
  });
});
