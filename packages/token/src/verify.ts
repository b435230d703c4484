/**
 * Verifying an access token the way a registry must before honouring it.
 * Spec: Docker "Token Authentication Implementation" § Verifying the token.
 */
import { errors, jwtVerify } from "jose";
import { isCompactJws } from "./bearer";
import { isAccessList, type AccessClaims } from "./claims";
import { TokenError } from "./errors";
import type { JwksCache } from "./jwks-cache";

/** Whom to trust and when: the key set, the expected `iss` and `aud`, allowed clock skew, and (for tests) now. */
export interface VerifyOptions {
  keys: JwksCache;
  issuer: string;
  audience: string;
  /** Seconds of clock skew tolerated on exp / nbf / iat (default 30). */
  clockToleranceSec?: number;
  /**
   * Longest lifetime (`exp - iat`, seconds) accepted, however well signed: a token minted to live for days is
   * refused even while it is valid. Unset: no limit.
   */
  maxLifetimeSec?: number;
  now?: Date;
}

/** The only algorithm accepted: `none`, HMAC (e.g. HS256 keyed with the public key) and RSA are all refused. */
const ALGORITHMS = ["ES256"];
const REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access"];

function invalid(message: string, cause?: unknown): TokenError {
  return new TokenError("TOKEN_INVALID", message, cause === undefined ? undefined : { cause });
}

/**
 * Verifies a compact JWS access token and returns its claims. Checks: ES256 signature by a key of the set named
 * by the header's `kid` (required); `iss` equals `issuer`; `aud` contains `audience`; `exp`, `nbf` and `iat`
 * present and consistent with now (± tolerance); `exp - iat` at most `maxLifetimeSec` when given (a token
 * without `iat` is refused whatever its lifetime); `sub` a string (`""` = anonymous), `jti` non-empty; `access`
 * an array of `{type, name, actions[]}`. Throws `TokenError`: TOKEN_MISSING (empty), TOKEN_EXPIRED (past exp),
 * TOKEN_INVALID (anything else).
 */
export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<AccessClaims> {
  if (typeof token !== "string" || token === "") throw new TokenError("TOKEN_MISSING", "no token");
  if (!isCompactJws(token)) throw invalid("not a compact JWS");
  const tolerance = options.clockToleranceSec ?? 30;
  const now = options.now ?? new Date();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, options.keys.resolve, {
      algorithms: ALGORITHMS,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: tolerance,
      currentDate: now,
      requiredClaims: REQUIRED_CLAIMS,
    }));
  } catch (e) {
    if (e instanceof TokenError) throw e;
    if (e instanceof errors.JWTExpired) throw new TokenError("TOKEN_EXPIRED", "token has expired", { cause: e });
    throw invalid(e instanceof Error ? e.message : "token verification failed", e);
  }
  const { iss, sub, aud, exp, nbf, iat, jti, access } = payload;
  if (typeof iss !== "string" || typeof sub !== "string") throw invalid("iss and sub must be strings");
  if (typeof jti !== "string" || jti === "") throw invalid("jti must be a non-empty string");
  if (typeof exp !== "number" || typeof nbf !== "number" || typeof iat !== "number") {
    throw invalid("exp, nbf and iat must be numbers");
  }
  if (iat > now.getTime() / 1000 + tolerance) throw invalid("token is issued in the future");
  if (options.maxLifetimeSec !== undefined && exp - iat > options.maxLifetimeSec) {
    throw invalid(`token lifetime ${exp - iat} s exceeds ${options.maxLifetimeSec} s`);
  }
  if (!(typeof aud === "string" || (Array.isArray(aud) && aud.every((a) => typeof a === "string")))) {
    throw invalid("aud must be a string or strings");
  }
  if (!isAccessList(access)) throw invalid("access claim is malformed");
  return { iss, sub, aud, exp, nbf, iat, jti, access };
}
