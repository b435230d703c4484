/**
 * ES256 signing keys as JWKs: generating one (local development, the key generator) and publishing its public
 * half. Spec: RFC 7517 (JWK), RFC 7518 § 3.4 (ES256); Docker "Token Authentication Implementation" (`kid`).
 */
import { exportJWK, generateKeyPair, type JWK } from "jose";

/** A key pair as JWKs, both carrying `kid`, `alg: "ES256"` and `use: "sig"`. */
export interface SigningKeyPair {
  privateJwk: JWK;
  publicJwk: JWK;
}

/**
 * The public JWK of an ES256 key (private or public) as a JWKS publishes it: kty, crv, x, y, kid, alg, use —
 * never `d`. Throws TypeError when the input is not an EC P-256 JWK with a kid.
 */
export function toPublicJwk(jwk: JWK): JWK {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string" || !jwk.kid) {
    throw new TypeError("not an EC P-256 JWK with a kid");
  }
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, kid: jwk.kid, alg: "ES256", use: "sig" };
}

/** Generates a new extractable ES256 key pair with this `kid`. Throws TypeError for an empty kid. */
export async function generateSigningKey(kid: string): Promise<SigningKeyPair> {
  if (typeof kid !== "string" || kid === "") throw new TypeError("kid must be a non-empty string");
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: "ES256", use: "sig" };
  return { privateJwk, publicJwk: toPublicJwk(privateJwk) };
}
