import { describe, expect, test } from "vitest";
import { serviceVerifier, signAccessToken, type TokenAuthEnv } from "../src/index";
import { AUDIENCE, ISSUER, sharedKey } from "./helpers";

/** An AUTH binding publishing the shared key, recording the URLs it was asked for. */
async function authBinding() {
  const { publicJwk } = await sharedKey();
  const urls: string[] = [];
  const AUTH = {
    fetch: async (url: string) => {
      urls.push(url);
      return Response.json({ keys: [publicJwk] });
    },
  };
  return { AUTH, urls };
}

/** A token from the shared key living `lifetime` seconds. */
async function token(lifetime: number, claims: { iss?: string; aud?: string } = {}): Promise<string> {
  const { privateJwk } = await sharedKey();
  const signed = await signAccessToken(privateJwk, { iss: ISSUER, sub: "robot$ci", aud: AUDIENCE, access: [], ...claims }, { expiresInSec: lifetime });
  return signed.token;
}

describe("serviceVerifier", () => {
  test("no AUTH binding and no realm: no verifier", () => {
    expect(serviceVerifier({})).toBeNull();
    expect(serviceVerifier({ AUTH_SERVICE: "x", AUTH_MAX_TOKEN_LIFETIME: "60" })).toBeNull();
  });

  test("defaults: service edge-registry, issuer edge-registry-auth, keys through AUTH's JWKS", async () => {
    const { AUTH, urls } = await authBinding();
    const verifier = serviceVerifier({ AUTH })!;
    expect(verifier.service).toBe(AUDIENCE);
    expect((await verifier.verify(await token(300))).sub).toBe("robot$ci");
    expect(urls).toEqual(["https://auth/.well-known/jwks.json"]);
    await expect(verifier.verify(await token(300, { iss: "someone-else" }))).rejects.toThrow();
    await expect(verifier.verify(await token(300, { aud: "other-service" }))).rejects.toThrow();
  });

  test("AUTH_SERVICE and AUTH_ISSUER are what tokens must name", async () => {
    const { AUTH } = await authBinding();
    const verifier = serviceVerifier({ AUTH, AUTH_SERVICE: "svc", AUTH_ISSUER: "iss" })!;
    expect(verifier.service).toBe("svc");
    expect((await verifier.verify(await token(300, { iss: "iss", aud: "svc" }))).aud).toBe("svc");
    await expect(verifier.verify(await token(300))).rejects.toThrow();
  });

  test.each<[TokenAuthEnv["AUTH_MAX_TOKEN_LIFETIME"], number, boolean]>([
    [undefined, 3600, true],
    [undefined, 3601, false],
    ["", 3601, false],
    ["not a number", 3601, false],
    ["-5", 3601, false],
    ["600", 600, true],
    ["600", 601, false],
    ["86400", 7200, true],
  ])("AUTH_MAX_TOKEN_LIFETIME %j: a token living %i s verifies: %s", async (cap, lifetime, ok) => {
    const { AUTH } = await authBinding();
    const verify = serviceVerifier({ AUTH, AUTH_MAX_TOKEN_LIFETIME: cap })!.verify(await token(lifetime));
    if (ok) expect((await verify).exp - (await verify).iat).toBe(lifetime);
    else await expect(verify).rejects.toThrow(/lifetime/);
  });

  test("a verified token is remembered: verifying it again fetches and checks nothing", async () => {
    const { AUTH, urls } = await authBinding();
    const verifier = serviceVerifier({ AUTH })!;
    const t = await token(300);
    const first = await verifier.verify(t);
    AUTH.fetch = async () => {
      throw new Error("no fetch expected");
    };
    expect(await verifier.verify(t)).toBe(first);
    expect(urls).toHaveLength(1);
  });

  test("without AUTH the keys come from the realm's host", async () => {
    const { AUTH, urls } = await authBinding();
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((url: string) => AUTH.fetch(url)) as typeof fetch;
    try {
      const verifier = serviceVerifier({ AUTH_REALM: "https://auth.example.com/token" })!;
      expect(verifier.service).toBe(AUDIENCE);
      expect((await verifier.verify(await token(300))).sub).toBe("robot$ci");
      expect(urls).toEqual(["https://auth.example.com/.well-known/jwks.json"]);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
