/**
 * The one error type of `@registry/token`: a refused token, with a stable `code` callers can `switch` on.
 * Spec: Docker "Token Authentication Implementation" § Verifying the token (any failed check refuses the token).
 */

/** Why a token was refused: none given, not acceptable (signature, claims, shape), or past its `exp`. */
export type TokenErrorCode = "TOKEN_MISSING" | "TOKEN_INVALID" | "TOKEN_EXPIRED";

/**
 * A bearer token that cannot be used. `message` says which check failed (for logs; do not echo key material).
 * Thrown by `verifyAccessToken` and by `JwksCache` key resolution.
 */
export class TokenError extends Error {
  /** The stable reason code. */
  readonly code: TokenErrorCode;

  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TokenError";
    this.code = code;
  }
}
