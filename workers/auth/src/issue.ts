/**
 * Issuing tokens: a signed access token for a principal and requested scopes, and refresh tokens.
 * Spec: Docker "Token Authentication Specification" § Token Response Fields; "OAuth2 Token Authentication".
 */
import { formatScope, type Scope } from "@registry/core";
import { signAccessToken, type AccessEntry } from "@registry/token";
import type { AccountStore } from "./account-store";
import { sha256Hex } from "./encoding";
import { REFRESH_TOKEN_TTL_MS, type Config } from "./env";
import { grantAccess, type Principal } from "./grants";
import { randomSecret } from "./passwords";

/** A signed access token with what the response needs to say about it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** RFC 3339 UTC, whole seconds. */
  issuedAt: string;
  access: AccessEntry[];
}

/** Signs a token with the first signing key for the intersection of `scopes` and what `principal` may do. */
export async function issueAccessToken(config: Config, principal: Principal, scopes: readonly Scope[]): Promise<IssuedToken> {
  const access = grantAccess(scopes, principal);
  const { token, claims } = await signAccessToken(
    config.signingKeys[0]!,
    { iss: config.issuer, sub: principal.subject, aud: config.service, access },
    { expiresInSec: config.tokenTtlSec },
  );
  return { token, expiresIn: config.tokenTtlSec, issuedAt: new Date(claims.iat * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"), access };
}

/** The granted access as an OAuth2 `scope` value: space-separated `type:name:actions`. */
export function scopeString(access: readonly AccessEntry[]): string {
  return access.map((a) => formatScope(a)).join(" ");
}

/** The digest under which a refresh token is stored (the token itself is never stored). */
export function refreshTokenDigest(token: string): Promise<string> {
  return sha256Hex(`refresh:${token}`);
}

/** Creates and stores a refresh token (32 random bytes) bound to this subject and service for 30 days. */
export async function createRefreshToken(
  store: DurableObjectStub<AccountStore>,
  subject: string,
  service: string,
  clientId: string,
): Promise<string> {
  const token = randomSecret(32);
  await store.putRefreshToken(await refreshTokenDigest(token), { subject, service, clientId, expiresAt: Date.now() + REFRESH_TOKEN_TTL_MS });
  return token;
}

/**
 * The JSON answer of the token endpoint (Docker token spec: `token`, and OAuth2's `access_token`), with `extra`
 * fields that are set (`scope`, `refresh_token`); never cached (RFC 6749 § 5.1).
 */
export function tokenResponse(issued: IssuedToken, extra: { scope?: string; refresh_token?: string | undefined } = {}): Response {
  const body = { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt, ...extra };
  return new Response(JSON.stringify(body), {
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" },
  });
}
