/**
 * The `Authorization: Bearer <token>` header (RFC 6750 § 2.1), as the registry receives it.
 */

/** Longest Authorization header looked at (8 KiB); longer ones are refused without being parsed. */
export const MAX_AUTHORIZATION_BYTES = 8192;

/** A compact JWS: three base64url parts (header, payload, signature), none empty. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** True for a string shaped like a compact JWS of at most 8 KiB (not a check of its contents). */
export function isCompactJws(s: string): boolean {
  return typeof s === "string" && s.length <= MAX_AUTHORIZATION_BYTES && COMPACT_JWS.test(s);
}

/**
 * The JWT of a `Bearer` Authorization header (scheme matched case-insensitively, RFC 7235 § 2.1), or null when
 * the header is absent, uses another scheme, is longer than 8 KiB, or the credential is not JWT-shaped
 * (three base64url parts). Never throws. Spec: Docker "Token Authentication Specification" § Using the Bearer token.
 */
export function parseBearer(header: string | null): string | null {
  if (typeof header !== "string" || header.length > MAX_AUTHORIZATION_BYTES) return null;
  const m = /^[ \t]*bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const token = m?.[1];
  return token !== undefined && isCompactJws(token) ? token : null;
}
