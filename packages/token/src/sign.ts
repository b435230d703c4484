/**
 * Issuing access tokens (the auth service's side of the JWT).
 * Spec: Docker "Token Authentication Implementation" § Getting a Bearer Token (header `typ`, `alg`, `kid`;
 * claims iss, sub, aud, exp, nbf, iat, jti, access).
 */
import { SignJWT, base64url, importJWK, type JWK } from "jose";
import type { AccessClaims } from "./claims";

/** The claims a caller chooses; `iat`, `nbf`, `exp` and `jti` are set by `signAccessToken`. */
export type UnsignedClaims = Pick<AccessClaims, "iss" | "sub" | "aud" | "access">;

/** Lifetime of the token in seconds (the spec advises at least 60) and, for tests, the issue time. */
export interface SignOptions {
  expiresInSec: number;
  now?: Date;
}

/** A signed token and the exact claims inside it. */
export interface SignedAccessToken {
  token: string;
  claims: AccessClaims;
}

const imported = new WeakMap<JWK, Promise<CryptoKey>>();

/** True for a private ES256 JWK with a `kid`: kty EC, crv P-256, x, y and d present. */
export function isPrivateSigningJwk(jwk: unknown): jwk is JWK & { kid: string; d: string } {
  if (typeof jwk !== "object" || jwk === null) return false;
  const k = jwk as Record<string, unknown>;
  return (
    typeof k.kid === "string" && k.kid !== "" && k.kty === "EC" && k.crv === "P-256" &&
    typeof k.x === "string" && typeof k.y === "string" && typeof k.d === "string" &&
    (k.alg === undefined || k.alg === "ES256")
  );
}

function signingKey(jwk: JWK): Promise<CryptoKey> {
  let key = imported.get(jwk);
  if (!key) {
    key = importJWK({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d }, "ES256") as Promise<CryptoKey>;
    imported.set(jwk, key);
  }
  return key;
}

/**
 * Signs an access token with an ES256 private JWK (header `{alg:"ES256", typ:"JWT", kid}`). `iat` and `nbf` are
 * now, `exp` is now + `expiresInSec`, `jti` is 128 random bits. Throws TypeError for a key that is not a private
 * ES256 JWK with a `kid`, or a lifetime that is not a positive integer.
 */
export async function signAccessToken(privateJwk: JWK, claims: UnsignedClaims, options: SignOptions): Promise<SignedAccessToken> {
  if (!isPrivateSigningJwk(privateJwk)) throw new TypeError("signing key must be a private ES256 JWK with a kid");
  if (!Number.isInteger(options.expiresInSec) || options.expiresInSec <= 0) {
    throw new TypeError("expiresInSec must be a positive integer");
  }
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const full: AccessClaims = {
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    exp: iat + options.expiresInSec,
    nbf: iat,
    iat,
    jti: base64url.encode(crypto.getRandomValues(new Uint8Array(16))),
    access: claims.access,
  };
  const token = await new SignJWT({ ...full })
    .setProtectedHeader({ alg: "ES256", typ: "JWT", kid: privateJwk.kid })
    .sign(await signingKey(privateJwk));
  return { token, claims: full };
}
