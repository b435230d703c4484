import { describe, expect, test } from "vitest";
import { generateSigningKey, signAccessToken, toPublicJwk, verifyAccessToken, type JWK, type JwksCache } from "../src/index";
import { AUDIENCE, ISSUER, cacheOver, claims, forgeEs256 } from "./helpers";

const verify = (token: string, keys: JwksCache) => verifyAccessToken(token, { keys, issuer: ISSUER, audience: AUDIENCE });
const sign = (jwk: JWK) => signAccessToken(jwk, { iss: ISSUER, sub: "ci", aud: AUDIENCE, access: [] }, { expiresInSec: 300 });

describe("JwksCache", () => {
  test("key rotation: a new kid is picked up, old and new both verify during the rotation, the old one is dropped after", async () => {
    const old = await generateSigningKey("2026-01");
    const next = await generateSigningKey("2026-04");
    let clock = 1_000_000;
    const published = { keys: [old.publicJwk] };
    const { cache, stats } = cacheOver(published, { ttlMs: 300_000, minRefreshMs: 10_000, now: () => clock });

    const before = (await sign(old.privateJwk)).token;
    await verify(before, cache);
    expect(stats.fetches).toBe(1);

    // rotation: the new key is prepended and signs from now on; the old one stays published for a token lifetime
    published.keys = [next.publicJwk, old.publicJwk];
    clock += 11_000;
    const after = (await sign(next.privateJwk)).token;
    await expect(verify(after, cache)).resolves.toMatchObject({ sub: "ci" });
    expect(stats.fetches).toBe(2); // the unknown kid triggered one refetch
    await expect(verify(before, cache)).resolves.toMatchObject({ sub: "ci" });
    expect(stats.fetches).toBe(2);

    // the old key is dropped; once the cache's ttl has passed it no longer verifies anything
    published.keys = [next.publicJwk];
    clock += 300_000;
    await expect(verify(before, cache)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
    await expect(verify(after, cache)).resolves.toBeTruthy();
  });

  test("garbage kids cause at most one fetch per minRefreshMs", async () => {
    const key = await generateSigningKey("real");
    let clock = 0;
    const { cache, stats } = cacheOver({ keys: [key.publicJwk] }, { minRefreshMs: 10_000, now: () => clock });
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => forgeEs256(key.privateJwk, claims(), { kid: `junk-${i}` })));
    await Promise.allSettled(tokens.map((t) => verify(t, cache)));
    expect(stats.fetches).toBe(1);
    clock += 5_000;
    await Promise.allSettled(tokens.map((t) => verify(t, cache)));
    expect(stats.fetches).toBe(1);
    clock += 6_000;
    await Promise.allSettled(tokens.map((t) => verify(t, cache)));
    expect(stats.fetches).toBe(2);
    await expect(verify((await sign(key.privateJwk)).token, cache)).resolves.toBeTruthy();
    expect(stats.fetches).toBe(2);
  });

  test("the set is refetched when its ttl has passed, not before", async () => {
    const key = await generateSigningKey("k");
    let clock = 0;
    const { cache, stats } = cacheOver({ keys: [key.publicJwk] }, { ttlMs: 60_000, now: () => clock });
    const { token } = await sign(key.privateJwk);
    await verify(token, cache);
    clock += 59_000;
    await verify(token, cache);
    expect(stats.fetches).toBe(1);
    clock += 2_000;
    await verify(token, cache);
    expect(stats.fetches).toBe(2);
  });

  test("a failing fetch keeps the previous keys; no keys at all refuses tokens", async () => {
    const key = await generateSigningKey("k");
    let clock = 0;
    let up = true;
    const cache = new (await import("../src/index")).JwksCache(
      async () => {
        if (!up) throw new Error("auth service down");
        return { keys: [key.publicJwk] };
      },
      { ttlMs: 1_000, minRefreshMs: 0, now: () => clock },
    );
    const { token } = await sign(key.privateJwk);
    await verify(token, cache);
    up = false;
    clock += 5_000;
    await expect(verify(token, cache)).resolves.toBeTruthy();

    const cold = new (await import("../src/index")).JwksCache(async () => {
      throw new Error("down");
    });
    await expect(verify(token, cold)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
  });

  test("published private parts are ignored, non-ES256 keys are skipped, malformed sets are survived", async () => {
    const key = await generateSigningKey("k");
    const { cache } = cacheOver({
      keys: [
        key.privateJwk, // d included by mistake: only x/y are imported
        { kty: "RSA", kid: "rsa", n: "AQAB", e: "AQAB" },
        { kty: "EC", crv: "P-384", kid: "p384", x: "AA", y: "AA" },
        { kty: "EC", crv: "P-256", kid: "rs", x: key.publicJwk.x!, y: key.publicJwk.y!, alg: "RS256" },
      ],
    });
    await expect(verify((await sign(key.privateJwk)).token, cache)).resolves.toBeTruthy();
    await expect(verify((await sign({ ...key.privateJwk, kid: "rs" })).token, cache)).rejects.toMatchObject({ code: "TOKEN_INVALID" });

    const garbage = new (await import("../src/index")).JwksCache(async () => ({ nope: true }) as unknown as { keys: JWK[] });
    await expect(verify((await sign(key.privateJwk)).token, garbage)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
  });
});

describe("keys and signing", () => {
  test("generateSigningKey gives an extractable ES256 pair; the public half carries no d", async () => {
    const { privateJwk, publicJwk } = await generateSigningKey("kid-1");
    expect(privateJwk).toMatchObject({ kty: "EC", crv: "P-256", kid: "kid-1", alg: "ES256", use: "sig" });
    expect(typeof privateJwk.d).toBe("string");
    expect(publicJwk).toEqual({ kty: "EC", crv: "P-256", x: privateJwk.x, y: privateJwk.y, kid: "kid-1", alg: "ES256", use: "sig" });
    expect(toPublicJwk(privateJwk)).toEqual(publicJwk);
  });

  test("signAccessToken refuses public keys, kid-less keys and bad lifetimes; header names the kid", async () => {
    const { privateJwk, publicJwk } = await generateSigningKey("kid-2");
    const c = { iss: ISSUER, sub: "x", aud: AUDIENCE, access: [] };
    await expect(signAccessToken(publicJwk, c, { expiresInSec: 60 })).rejects.toBeInstanceOf(TypeError);
    await expect(signAccessToken({ ...privateJwk, kid: undefined }, c, { expiresInSec: 60 })).rejects.toBeInstanceOf(TypeError);
    await expect(signAccessToken(privateJwk, c, { expiresInSec: 0 })).rejects.toBeInstanceOf(TypeError);
    const { token } = await signAccessToken(privateJwk, c, { expiresInSec: 60 });
    const header = JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(header).toEqual({ alg: "ES256", typ: "JWT", kid: "kid-2" });
  });
});
