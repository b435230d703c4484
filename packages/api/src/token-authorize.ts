import { isRepositoryName, OciError, type RepositoryName } from "@registry/core";
import {
  allowedActions,
  formatChallenge,
  parseBearer,
  repositoriesAllowing,
  type AccessClaims,
} from "@registry/token";
import { signedBlobGrant } from "./blob-urls";
import type { Access, Authorize, Grant } from "./context";

export interface TokenAuthOptions {
  /** The token endpoint clients are sent to, e.g. `https://auth.example.com/token`. */
  realm: string;
  /** The `service` clients name when they ask for a token (the token's audience). */
  service: string;
  /** Verifies a bearer token locally (signature, iss, aud, exp/nbf); throws on anything wrong. */
  verify: (token: string) => Promise<AccessClaims>;
}

/**
 * Docker token authentication for the /v2 API (Docker "Token Authentication Specification"): every request
 * needs a bearer token whose `access` covers the route's need. No or bad token → 401 UNAUTHORIZED with a
 * `WWW-Authenticate: Bearer realm,service,scope` challenge; a valid token without the needed actions → 401
 * with `error="insufficient_scope"` and DENIED, so clients fetch a token for the new scope and try again.
 * Tokens are verified locally: the auth service is never called per request. A signed blob URL (blob-urls.ts,
 * issued by an authorized blob GET) is a credential too: it lets anyone holding it pull that one path until it expires.
 */
export function tokenAuthorize(options: TokenAuthOptions): Authorize {
  return async (request: Request, access: Access): Promise<Grant> => {
    if (access.type === "repository" && access.actions.every((a) => a === "pull")) {
      const signed = await signedBlobGrant(request, access.repository);
      if (signed) return signed;
    }
    const scope = scopeOf(access);
    const token = parseBearer(request.headers.get("Authorization"));
    if (!token) throw challenge(options, scope, "authentication required");
    let claims: AccessClaims;
    try {
      claims = await options.verify(token);
    } catch {
      throw challenge(options, scope, "invalid or expired token");
    }
    if (access.type === "catalog" && !allowedActions(claims, "registry", "catalog").includes("*")) {
      throw challenge(options, scope, "insufficient scope", true);
    }
    let mayPush = false;
    if (access.type === "repository") {
      const granted = allowedActions(claims, "repository", access.repository);
      if (!access.actions.every((a) => granted.includes(a))) {
        throw challenge(options, scope, "insufficient scope", true);
      }
      mayPush = granted.includes("push");
    }
    const pullable = repositoriesAllowing(claims, "pull").filter(isRepositoryName) as RepositoryName[];
    const subject = typeof claims.sub === "string" && claims.sub ? claims.sub : undefined;
    return { canPull: (repository: RepositoryName) => pullable.includes(repository), pullable, mayPush, ...(subject ? { subject } : {}) };
  };
}

/** The scope a route needs, as a challenge names it. */
function scopeOf(access: Access): string | undefined {
  switch (access.type) {
    case "none":
      return undefined;
    case "catalog":
      return "registry:catalog:*";
    case "repository":
      return `repository:${access.repository}:${access.actions.join(",")}`;
  }
}

/** The 401 that sends the client to the realm: UNAUTHORIZED, or DENIED with `error="insufficient_scope"`. */
function challenge(options: TokenAuthOptions, scope: string | undefined, detail: string, insufficient = false): OciError {
  const header = formatChallenge({
    realm: options.realm,
    service: options.service,
    ...(scope ? { scope } : {}),
    ...(insufficient ? { error: "insufficient_scope" } : {}),
  });
  return OciError.challenge(header, detail, insufficient);
}
