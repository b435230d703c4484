import { env } from "cloudflare:test";
import { JwksCache, allowedActions, generateSigningKey, verifyAccessToken, type JWK } from "@registry/token";
import { describe, expect, test, vi } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { ISSUER, SERVICE, call, createRobot, getToken, registryVerifier } from "./helpers";

const baseEnv = env as Env;

describe("JWKS", () => {
  test("/.well-known/jwks.json and /jwks publish the public keys only: kid, alg ES256, use sig", async () => {
    for (const path of ["/.well-known/jwks.json", "/jwks"]) {
      const res = await call({ path });
      expect(res.status).toBe(200);
      const { keys } = (await res.json()) as { keys: JWK[] };
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", kid: "test-key-1", alg: "ES256", use: "sig" });
      expect(Object.keys(keys[0]!).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
    }
  });

  test("a registry verifies issued tokens with @registry/token over the JWKS, and reads the grants", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const { token } = (await (await getToken(["repository:ci/app:pull,push"], robot)).json()) as { token: string };
    const { verify, stats } = registryVerifier();
    const claims = await verify(token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: SERVICE, sub: robot.name });
    expect(allowedActions(claims, "repository", "ci/app")).toEqual(["pull"]);
    expect(allowedActions(claims, "repository", "ci/other")).toEqual([]);
    expect(stats.fetches).toBe(1);
    // the anonymous token verifies as well
    const anonymous = (await (await getToken(["repository:public/x:pull"])).json()) as { token: string };
    expect((await verify(anonymous.token)).sub).toBe("");
  });

  test("key rotation: tokens signed by the old key still verify, new tokens carry the new kid", async () => {
    const old = await generateSigningKey("2026-01");
    const next = await generateSigningKey("2026-04");
    let current: Env = { ...baseEnv, SIGNING_KEYS: JSON.stringify([old.privateJwk]) };
    const request = (path: string) => worker.fetch(new Request(`http://auth.test${path}`, { headers: { "CF-Connecting-IP": "192.0.2.10" } }), current);
    const kidOf = (t: string) => (JSON.parse(atob(t.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { kid: string }).kid;
    const tokenPath = `/token?service=${SERVICE}&scope=repository:public/app:pull`;
    const { verify, stats } = registryVerifier(() => request("/.well-known/jwks.json"));

    const before = ((await (await request(tokenPath)).json()) as { token: string }).token;
    expect(kidOf(before)).toBe("2026-01");
    await verify(before);

    // step 1: prepend the new key — it signs from now on; both are published
    current = { ...baseEnv, SIGNING_KEYS: JSON.stringify([next.privateJwk, old.privateJwk]) };
    const jwks = (await (await request("/jwks")).json()) as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(["2026-04", "2026-01"]);
    const after = ((await (await request(tokenPath)).json()) as { token: string }).token;
    expect(kidOf(after)).toBe("2026-04");
    await expect(verify(after)).resolves.toMatchObject({ sub: "" }); // unknown kid → the registry refetches
    await expect(verify(before)).resolves.toMatchObject({ sub: "" });
    expect(stats.fetches).toBe(2);

    // step 2 (after TOKEN_TTL): drop the old key — a registry with a fresh key set refuses old-key tokens
    current = { ...baseEnv, SIGNING_KEYS: JSON.stringify([next.privateJwk]) };
    const fresh = new JwksCache(async () => (await (await request("/jwks")).json()) as { keys: JWK[] });
    const opts = { keys: fresh, issuer: ISSUER, audience: SERVICE };
    await expect(verifyAccessToken(after, opts)).resolves.toBeTruthy();
    await expect(verifyAccessToken(before, opts)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
  });

  test("misconfigured SIGNING_KEYS → 500 with a request id, and no key material in the answer", async () => {
    const { publicJwk } = await generateSigningKey("pub");
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const value of [undefined, "", "not json", "[]", JSON.stringify([publicJwk]), JSON.stringify({ kid: "x" })]) {
      const bad: Env = { ...baseEnv, SIGNING_KEYS: value };
      for (const path of ["/jwks", `/token?service=${SERVICE}`]) {
        const res = await worker.fetch(new Request(`http://auth.test${path}`, { headers: { "cf-ray": "ray-123" } }), bad);
        expect(res.status).toBe(500);
        const body = (await res.json()) as { errors: { code: string; detail: { requestId: string } }[] };
        expect(body.errors[0]).toMatchObject({ code: "UNKNOWN", detail: { requestId: "ray-123" } });
        expect(res.headers.get("x-request-id")).toBe("ray-123");
        expect(JSON.stringify(body)).not.toContain(publicJwk.x as string);
      }
    }
    expect(logged).toHaveBeenCalledWith("auth: request ray-123 failed:", expect.any(Error));
    logged.mockRestore();
  });
});
