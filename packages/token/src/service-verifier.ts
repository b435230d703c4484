/**
 * The one way a worker that honours tokens (the registry, the mirror) builds its verifier from its bindings:
 * the auth service's JWKS (cached), issuer, audience and lifetime cap, and a cache of tokens already verified.
 * Spec: Docker "Token Authentication Implementation" § Verifying the token (keys are fetched, never a call per
 * request).
 */
import { BoundedMap } from "@registry/core";
import type { AccessClaims } from "./claims";
import { serviceJwks } from "./jwks-cache";
import { verifyAccessToken, type VerifyOptions } from "./verify";

/** The bindings a token-verifying worker reads (names as in its wrangler.toml). */
export interface TokenAuthEnv {
  /** Service binding to the auth worker: its JWKS is fetched through it. */
  AUTH?: { fetch(input: string): Promise<Response> } | undefined;
  /** The public token endpoint; without AUTH the JWKS is fetched from this host's `/.well-known/jwks.json`. */
  AUTH_REALM?: string | undefined;
  /** The service tokens are issued for (their audience), default `edge-registry`. */
  AUTH_SERVICE?: string | undefined;
  /** The issuer tokens must name, default `edge-registry-auth`. */
  AUTH_ISSUER?: string | undefined;
  /** Longest token lifetime (`exp - iat`, seconds) accepted; default 3600 when unset or not a positive integer. */
  AUTH_MAX_TOKEN_LIFETIME?: string | undefined;
}

/** A verifier and the service (audience) it verifies for, as `tokenAuthorize` and challenges need them. */
export interface ServiceVerifier {
  service: string;
  /** Resolves to the claims of a valid token; throws `TokenError` for anything else (see `verifyAccessToken`). */
  verify: (token: string) => Promise<AccessClaims>;
}

/** Token lifetime cap when AUTH_MAX_TOKEN_LIFETIME is unset (or not a positive integer). */
const DEFAULT_MAX_TOKEN_LIFETIME_SEC = 3600;

/** Verified tokens kept per isolate (until they expire), so a pull does not redo the ES256 check. */
const MAX_CACHED_TOKENS = 1000;

/**
 * The verifier for these bindings, or null when there is no auth service to fetch keys from (neither AUTH nor
 * AUTH_REALM). Keys come through the AUTH binding, else from the realm's host. Tokens living longer than
 * AUTH_MAX_TOKEN_LIFETIME are refused however well signed. Throws TypeError for an AUTH_REALM that is not a URL.
 */
export function serviceVerifier(env: TokenAuthEnv): ServiceVerifier | null {
  const keys = env.AUTH
    ? serviceJwks(env.AUTH)
    : env.AUTH_REALM
      ? serviceJwks({ fetch: (url) => fetch(url) }, new URL("/.well-known/jwks.json", env.AUTH_REALM).toString())
      : null;
  if (!keys) return null;
  const service = env.AUTH_SERVICE ?? "edge-registry";
  const verify = cachedVerifier({ keys, issuer: env.AUTH_ISSUER ?? "edge-registry-auth", audience: service, maxLifetimeSec: maxTokenLifetime(env) });
  return { service, verify };
}

function maxTokenLifetime(env: TokenAuthEnv): number {
  const configured = Number(env.AUTH_MAX_TOKEN_LIFETIME);
  return Number.isSafeInteger(configured) && configured > 0 ? configured : DEFAULT_MAX_TOKEN_LIFETIME_SEC;
}

/**
 * A token verifier: signature by a key from `keys` (the auth service's JWKS), `iss`, `aud`, exp/nbf with 30 s
 * of skew, and a lifetime (`exp - iat`) of at most `maxLifetimeSec` when given. Successful checks are remembered
 * until the token's `exp` (at most MAX_CACHED_TOKENS, the oldest forgotten first). Throws what
 * `verifyAccessToken` throws.
 */
function cachedVerifier(
  options: Pick<VerifyOptions, "keys" | "issuer" | "audience" | "maxLifetimeSec">,
): (token: string) => Promise<AccessClaims> {
  const verified = new BoundedMap<string, AccessClaims>(MAX_CACHED_TOKENS);
  return async (token) => {
    const hit = verified.get(token);
    if (hit && hit.exp * 1000 > Date.now()) return hit;
    const claims = await verifyAccessToken(token, options);
    verified.set(token, claims);
    return claims;
  };
}
