import { base64url } from "jose";
import { describe, expect, test } from "vitest";
import { TokenError, generateSigningKey, signAccessToken, verifyAccessToken, type JwksCache } from "../src/index";
import { AUDIENCE, ISSUER, cacheOver, claims, forgeEs256, forgeHs256, part, sharedKey } from "./helpers";

/** Asserts that verification is refused with this TokenError code. */
async function refused(token: string, cache: JwksCache, code: TokenError["code"] = "TOKEN_INVALID", extra = {}, reason?: RegExp) {
  const error = await verifyAccessToken(token, { keys: cache, issuer: ISSUER, audience: AUDIENCE, ...extra }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenError);
  expect((error as TokenError).code).toBe(code);
  if (reason) expect((error as TokenError).message).toMatch(reason);
}

const ALG_REFUSED = /"alg" \(Algorithm\) Header Parameter value not allowed/;
const BAD_SIGNATURE = /signature verification failed/;

async function setup() {
  const key = await sharedKey();
  const { cache, stats } = cacheOver({ keys: [key.publicJwk] });
  return { key, cache, stats };
}

describe("verifyAccessToken accepts what the auth service issues", () => {
  test("a token from signAccessToken verifies and its claims come back", async () => {
    const { key, cache } = await setup();
    const access = [{ type: "repository", name: "a/app", actions: ["pull", "push"] }];
    const { token, claims: issued } = await signAccessToken(key.privateJwk, { iss: ISSUER, sub: "alice", aud: AUDIENCE, access }, { expiresInSec: 300 });
    const got = await verifyAccessToken(token, { keys: cache, issuer: ISSUER, audience: AUDIENCE });
    expect(got).toEqual(issued);
    expect(got.exp - got.iat).toBe(300);
    expect(got.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  test("anonymous (sub \"\") and an aud array containing the audience are accepted", async () => {
    const { key, cache } = await setup();
    const token = await forgeEs256(key.privateJwk, claims({ sub: "", aud: ["other", AUDIENCE], access: [] }));
    const got = await verifyAccessToken(token, { keys: cache, issuer: ISSUER, audience: AUDIENCE });
    expect(got.sub).toBe("");
    expect(got.access).toEqual([]);
  });

  test("clock skew within the tolerance is accepted", async () => {
    const { key, cache } = await setup();
    const now = Math.floor(Date.now() / 1000);
    const token = await forgeEs256(key.privateJwk, claims({ iat: now + 20, nbf: now + 20, exp: now - 20 + 300 }));
    await expect(verifyAccessToken(token, { keys: cache, issuer: ISSUER, audience: AUDIENCE })).resolves.toBeTruthy();
  });
});

describe("verifyAccessToken refuses every attack", () => {
  test("alg none (unsigned), with or without a signature part", async () => {
    const { cache, stats } = await setup();
    const body = part(claims());
    for (const header of [{ alg: "none", typ: "JWT", kid: "k1" }, { alg: "None", kid: "k1" }, { alg: "NONE", kid: "k1" }]) {
      await refused(`${part(header)}.${body}.`, cache); // no signature: not even JWS-shaped
      await refused(`${part(header)}.${body}.AAAA`, cache, "TOKEN_INVALID", {}, ALG_REFUSED);
    }
    expect(stats.fetches).toBe(0); // refused before any key is looked up
  });

  test("HS256 keyed with the public key's bytes (JWK JSON, raw point, SPKI, x) is refused", async () => {
    const { key, cache } = await setup();
    const pub = await crypto.subtle.importKey("jwk", key.publicJwk as JsonWebKey, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const secrets = [
      new TextEncoder().encode(JSON.stringify(key.publicJwk)),
      new Uint8Array((await crypto.subtle.exportKey("raw", pub)) as ArrayBuffer),
      new Uint8Array((await crypto.subtle.exportKey("spki", pub)) as ArrayBuffer),
      base64url.decode(key.publicJwk.x as string),
    ];
    for (const secret of secrets) {
      await refused(await forgeHs256(new Uint8Array(secret), claims(), { kid: "k1" }), cache, "TOKEN_INVALID", {}, ALG_REFUSED);
    }
  });

  test("an oct (HMAC) key published under the same kid cannot enable HS256", async () => {
    const key = await sharedKey();
    const secret = new Uint8Array(new TextEncoder().encode("published-by-mistake"));
    const { cache } = cacheOver({ keys: [{ kty: "oct", kid: "k1", k: base64url.encode(secret) }, key.publicJwk] });
    await refused(await forgeHs256(secret, claims(), { kid: "k1" }), cache, "TOKEN_INVALID", {}, ALG_REFUSED);
    // ... and the real ES256 key under that kid still works
    await expect(verifyAccessToken(await forgeEs256(key.privateJwk, claims()), { keys: cache, issuer: ISSUER, audience: AUDIENCE })).resolves.toBeTruthy();
  });

  test("unknown kid, missing kid, empty kid", async () => {
    const { key, cache } = await setup();
    await refused(await forgeEs256(key.privateJwk, claims(), { kid: "nope" }), cache, "TOKEN_INVALID", {}, /unknown key/);
    await refused(await forgeEs256({ ...key.privateJwk, kid: undefined }, claims()), cache, "TOKEN_INVALID", {}, /names no key/);
    await refused(await forgeEs256(key.privateJwk, claims(), { kid: "" }), cache, "TOKEN_INVALID", {}, /names no key/);
  });

  test("wrong key: another ES256 key published nowhere but using the same kid", async () => {
    const { cache } = await setup();
    const impostor = await generateSigningKey("k1");
    await refused(await forgeEs256(impostor.privateJwk, claims()), cache, "TOKEN_INVALID", {}, BAD_SIGNATURE);
  });

  test("expired (past exp + tolerance) → TOKEN_EXPIRED", async () => {
    const { key, cache } = await setup();
    const now = Math.floor(Date.now() / 1000);
    await refused(await forgeEs256(key.privateJwk, claims({ iat: now - 400, nbf: now - 400, exp: now - 31 })), cache, "TOKEN_EXPIRED");
    const token = await forgeEs256(key.privateJwk, claims());
    await refused(token, cache, "TOKEN_EXPIRED", { now: new Date(Date.now() + 400_000) });
  });

  test("not yet valid: nbf (or iat) in the future", async () => {
    const { key, cache } = await setup();
    const now = Math.floor(Date.now() / 1000);
    await refused(await forgeEs256(key.privateJwk, claims({ nbf: now + 120 })), cache, "TOKEN_INVALID", {}, /"nbf"/);
    await refused(await forgeEs256(key.privateJwk, claims({ iat: now + 120 })), cache, "TOKEN_INVALID", {}, /future/);
  });

  test("wrong audience, wrong issuer", async () => {
    const { key, cache } = await setup();
    await refused(await forgeEs256(key.privateJwk, claims({ aud: "someone-else" })), cache, "TOKEN_INVALID", {}, /"aud"/);
    await refused(await forgeEs256(key.privateJwk, claims({ aud: [] })), cache, "TOKEN_INVALID", {}, /"aud"/);
    await refused(await forgeEs256(key.privateJwk, claims({ iss: "evil-auth" })), cache, "TOKEN_INVALID", {}, /"iss"/);
  });

  test("tampered payload: claims re-encoded (push added, exp extended) under the old signature", async () => {
    const { key, cache } = await setup();
    const original = claims();
    const token = await forgeEs256(key.privateJwk, original);
    const [header, , signature] = token.split(".");
    const escalated = { ...original, access: [{ type: "repository", name: "a/app", actions: ["pull", "push"] }] };
    await refused(`${header}.${part(escalated)}.${signature}`, cache, "TOKEN_INVALID", {}, BAD_SIGNATURE);
    await refused(`${header}.${part({ ...original, exp: original.exp + 86400 })}.${signature}`, cache, "TOKEN_INVALID", {}, BAD_SIGNATURE);
    await refused(`${header}.${part({ ...original, sub: "admin" })}.${signature}`, cache, "TOKEN_INVALID", {}, BAD_SIGNATURE);
    // tampered header (kid swapped) with the old signature
    await refused(`${part({ alg: "ES256", typ: "JWT", kid: "k1", x: 1 })}.${token.split(".")[1]}.${signature}`, cache);
  });

  test("missing or malformed claims", async () => {
    const { key, cache } = await setup();
    for (const drop of ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access"] as const) {
      const c: Record<string, unknown> = { ...claims() };
      delete c[drop];
      await refused(await forgeEs256(key.privateJwk, c), cache);
    }
    const bad: Record<string, unknown>[] = [
      { jti: "" },
      { sub: 7 },
      { exp: "soon" },
      { access: "repository:a/app:pull" },
      { access: [{ type: "repository", name: "a/app", actions: "pull" }] },
      { access: [{ type: "repository", actions: ["pull"] }] },
      { access: [null] },
    ];
    for (const overrides of bad) await refused(await forgeEs256(key.privateJwk, { ...claims(), ...overrides }), cache);
  });

  test("garbage instead of a token", async () => {
    const { cache } = await setup();
    await refused("", cache, "TOKEN_MISSING");
    for (const t of ["x", "a.b", "a.b.c", "a.b.c.d", "....", "é.é.é", `${"a".repeat(9000)}.b.c`, `${part({ alg: "ES256", kid: "k1" })}.!!.x`]) {
      await refused(t, cache);
    }
  });
});

describe("verifyAccessToken caps a token's lifetime (exp - iat) when asked", () => {
  const CAP = { maxLifetimeSec: 3600 };

  test("up to the cap is accepted; one second more is refused, though signed and not expired", async () => {
    const { key, cache } = await setup();
    const now = Math.floor(Date.now() / 1000);
    const options = { keys: cache, issuer: ISSUER, audience: AUDIENCE, ...CAP };
    await expect(verifyAccessToken(await forgeEs256(key.privateJwk, claims({ exp: now + 3600 }, now)), options)).resolves.toBeTruthy();
    await refused(await forgeEs256(key.privateJwk, claims({ exp: now + 3601 }, now)), cache, "TOKEN_INVALID", CAP, /lifetime 3601 s exceeds 3600 s/);
    const { token } = await signAccessToken(key.privateJwk, { iss: ISSUER, sub: "alice", aud: AUDIENCE, access: [] }, { expiresInSec: 7 * 86400 });
    await refused(token, cache, "TOKEN_INVALID", CAP, /lifetime 604800 s exceeds 3600 s/);
  });

  test("an old iat cannot stretch a token that is still valid now", async () => {
    const { key, cache } = await setup();
    const now = Math.floor(Date.now() / 1000);
    await refused(await forgeEs256(key.privateJwk, claims({ iat: now - 86400, nbf: now - 86400, exp: now + 60 })), cache, "TOKEN_INVALID", CAP, /exceeds/);
  });

  test("without iat the token is refused (iat is required), cap or not", async () => {
    const { key, cache } = await setup();
    const c: Record<string, unknown> = { ...claims() };
    delete c.iat;
    const token = await forgeEs256(key.privateJwk, c);
    await refused(token, cache, "TOKEN_INVALID", CAP, /"iat"/);
    await refused(token, cache, "TOKEN_INVALID", {}, /"iat"/);
  });

  test("without the option a long-lived token is accepted (the cap is the registry's choice)", async () => {
    const { key, cache } = await setup();
    const { token } = await signAccessToken(key.privateJwk, { iss: ISSUER, sub: "alice", aud: AUDIENCE, access: [] }, { expiresInSec: 86400 });
    await expect(verifyAccessToken(token, { keys: cache, issuer: ISSUER, audience: AUDIENCE })).resolves.toBeTruthy();
  });
});
