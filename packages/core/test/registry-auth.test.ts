import { describe, expect, test } from "vitest";
import { basicAuthorization, parseAuthChallenge, RegistryTokens, TokenRequestError } from "../src/registry-auth";

describe("parseAuthChallenge", () => {
  test.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull,push"',
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/a:pull,push" } },
    ],
    ['Basic realm="Registry Realm"', { scheme: "basic", params: { realm: "Registry Realm" } }],
    ['bearer Realm="r", Service=svc, error="insufficient_scope"', { scheme: "bearer", params: { realm: "r", service: "svc", error: "insufficient_scope" } }],
    ['Bearer realm="a\\"b"', { scheme: "bearer", params: { realm: 'a"b' } }],
  ])("%s", (header, expected) => {
    expect(parseAuthChallenge(header)).toEqual(expected);
  });

  test.each([null, undefined, "", "   "])("%j is no challenge", (header) => {
    expect(parseAuthChallenge(header)).toBeUndefined();
  });
});

test("basicAuthorization encodes UTF-8 credentials, and none without a username", () => {
  expect(basicAuthorization("robot", "pä")).toBe(`Basic ${btoa("robot:p\u00c3\u00a4")}`);
  expect(basicAuthorization(undefined, "x")).toBeUndefined();
});

describe("RegistryTokens", () => {
  const challenge = 'Bearer realm="https://auth.test/token?x=1",service="reg"';

  test("fetches a token with service, every scope and Basic credentials; keeps it until expiry less a margin", async () => {
    let now = 1_000_000;
    const tokens = new RegistryTokens(10, () => now);
    const asked: { url: string; headers: Record<string, string> }[] = [];
    const send = async (url: string, headers: Record<string, string>) => {
      asked.push({ url, headers });
      return Response.json({ access_token: "t1", expires_in: 100 });
    };
    const auth = await tokens.answer("k", { challenge, scopes: ["repository:a:pull,push", "repository:b:pull"], username: "u", password: "p", send });
    expect(auth).toBe("Bearer t1");
    const url = new URL(asked[0]!.url);
    expect(url.searchParams.get("x")).toBe("1");
    expect(url.searchParams.get("service")).toBe("reg");
    expect(url.searchParams.getAll("scope")).toEqual(["repository:a:pull,push", "repository:b:pull"]);
    expect(asked[0]!.headers.Authorization).toBe(basicAuthorization("u", "p"));
    expect(tokens.get("k")).toBe("Bearer t1");
    now += 89_000;
    expect(tokens.get("k")).toBe("Bearer t1");
    now += 2_000;
    expect(tokens.get("k")).toBeUndefined();
  });

  test("a Basic challenge (or none) is answered with the credentials, anonymously with nothing", async () => {
    const tokens = new RegistryTokens();
    const send = () => Promise.reject(new Error("no realm to ask"));
    expect(await tokens.answer("k", { challenge: 'Basic realm="x"', scopes: [], username: "u", password: "p", send })).toBe(basicAuthorization("u", "p"));
    expect(tokens.get("k")).toBe(basicAuthorization("u", "p"));
    expect(await tokens.answer("k2", { challenge: null, scopes: [], send })).toBeUndefined();
  });

  test.each([
    [new Response("no", { status: 403 }), 403, "the token service answered 403"],
    [new Response("not json", { status: 200 }), undefined, "a token answer that is not JSON"],
    [Response.json({ expires_in: 5 }), undefined, "a token answer without a token"],
  ])("a bad realm answer throws TokenRequestError (%#)", async (res, status, message) => {
    const tokens = new RegistryTokens();
    const error = await tokens.answer("k", { challenge, scopes: ["s"], send: async () => res }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as TokenRequestError).status).toBe(status);
    expect((error as TokenRequestError).message).toBe(message);
    expect(tokens.get("k")).toBeUndefined();
  });
});
