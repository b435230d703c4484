import { CompactSign, base64url, importJWK, type JWK } from "jose";
import { JwksCache, generateSigningKey, type AccessClaims, type SigningKeyPair } from "../src/index";

export const ISSUER = "edge-registry-auth";
export const AUDIENCE = "edge-registry";

const encoder = new TextEncoder();

/** base64url of a JSON value (no padding), as a JWS part. */
export function part(value: unknown): string {
  return base64url.encode(encoder.encode(JSON.stringify(value)));
}

/** Fresh valid claims: issued now, 5 minutes to live, pull on `a/app`. */
export function claims(overrides: Partial<AccessClaims> = {}, now = Math.floor(Date.now() / 1000)): AccessClaims {
  return {
    iss: ISSUER,
    sub: "robot$ci",
    aud: AUDIENCE,
    exp: now + 300,
    nbf: now,
    iat: now,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    access: [{ type: "repository", name: "a/app", actions: ["pull"] }],
    ...overrides,
  };
}

/** Signs any payload (not necessarily valid claims) with any protected header, ES256 with `jwk`. */
export async function forgeEs256(jwk: JWK, payload: unknown, header: Record<string, unknown> = {}): Promise<string> {
  const key = await importJWK({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d }, "ES256");
  return new CompactSign(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "ES256", typ: "JWT", ...(jwk.kid ? { kid: jwk.kid } : {}), ...header })
    .sign(key);
}

/** HMAC-SHA256 JWS over header.payload keyed with `secret` (the "HS256 with the public key" attack). */
export async function forgeHs256(secret: Uint8Array<ArrayBuffer>, payload: unknown, header: Record<string, unknown>): Promise<string> {
  const input = `${part({ alg: "HS256", typ: "JWT", ...header })}.${part(payload)}`;
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(input)));
  return `${input}.${base64url.encode(sig)}`;
}

/** A JwksCache over a mutable list of published keys, counting fetches. */
export function cacheOver(published: { keys: JWK[] }, options: ConstructorParameters<typeof JwksCache>[1] = {}) {
  const stats = { fetches: 0 };
  const cache = new JwksCache(async () => {
    stats.fetches++;
    return { keys: structuredClone(published.keys) };
  }, options);
  return { cache, stats };
}

let shared: Promise<SigningKeyPair> | undefined;
/** One key pair shared by a test file (kid "k1"). */
export function sharedKey(): Promise<SigningKeyPair> {
  shared ??= generateSigningKey("k1");
  return shared;
}
