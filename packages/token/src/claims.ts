/**
 * The claim set of a registry access token (a JWT signed by the auth service, checked by the registry).
 * Spec: Docker "Token Authentication Implementation" § Claim Set; "Token Scope Documentation" § JWT Access Tokens.
 */

/** One `access` entry: a resource (`type`, `name`) and the actions granted on it, e.g. repository `a/b` [pull]. */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/**
 * The claims of an access token: issuer, subject (`""` for anonymous), audience (the registry's service name),
 * expiry / not-before / issued-at (seconds since the epoch), a unique id, and the granted `access`.
 */
export interface AccessClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

/** At most this many access entries in one token (a token is a header; 8 KiB of them is already absurd). */
export const MAX_ACCESS_ENTRIES = 256;

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === "string");
}

/** True for a well-formed `access` entry: string `type` and `name`, an array of string `actions`. */
export function isAccessEntry(v: unknown): v is AccessEntry {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.type === "string" && typeof e.name === "string" && isStringArray(e.actions);
}

/** True for a well-formed `access` claim: an array of at most MAX_ACCESS_ENTRIES access entries. */
export function isAccessList(v: unknown): v is AccessEntry[] {
  return Array.isArray(v) && v.length <= MAX_ACCESS_ENTRIES && v.every(isAccessEntry);
}
