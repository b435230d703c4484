/**
 * The auth service's error vocabulary, rendered once, in one of two formats: the registry's `{"errors":[{code,
 * message, detail?}]}` envelope (`GET /token` and the admin API: what docker, podman and skopeo parse from a
 * Docker token endpoint), or RFC 6749 §5.2's `{"error", "error_description"}` (`POST /token`, the OAuth2
 * endpoint). The codes are this service's own (it is not the OCI API): `UNAUTHORIZED` rides with a
 * `WWW-Authenticate` challenge, `TOOMANYREQUESTS` with `Retry-After`. Anything that is not an `AuthError`
 * becomes a logged 500 UNKNOWN with a request id, the same answer as the registry's.
 */
import { OciError } from "@registry/core";


/** This service's error codes with their HTTP status and default message. */
export const AUTH_ERRORS = Object.freeze({
  INVALID_REQUEST: { status: 400, message: "invalid request" },
  SCOPE_INVALID: { status: 400, message: "invalid scope" },
  UNSUPPORTED_GRANT_TYPE: { status: 400, message: "unsupported grant_type" },
  UNAUTHORIZED: { status: 401, message: "authentication required" },
  INVALID_CLIENT: { status: 401, message: "client authentication failed" },
  NOT_FOUND: { status: 404, message: "not found" },
  METHOD_NOT_ALLOWED: { status: 405, message: "method not allowed" },
  CONFLICT: { status: 409, message: "already exists" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "request body too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "unsupported content type" },
  TOOMANYREQUESTS: { status: 429, message: "too many failed attempts, try again later" },
} as const);

/**
 * How each code answers an OAuth2 client (RFC 6749 §5.2): the `error` value and the status, 400 unless said.
 * Bad credentials or a bad refresh token are the grant's fault (`invalid_grant`, 400); only a client whose own
 * authentication fails (a malformed `Authorization`) gets 401 `invalid_client`. A throttled login keeps 429 and
 * `Retry-After` with `temporarily_unavailable` (RFC 6749 §4.1.2.1's code for the same condition); a body that is
 * not a form or too large keeps its 415 / 413 with `invalid_request`.
 */
const OAUTH_ERRORS: Readonly<Record<AuthErrorCode, { error: string; status?: number }>> = Object.freeze({
  INVALID_REQUEST: { error: "invalid_request" },
  SCOPE_INVALID: { error: "invalid_scope" },
  UNSUPPORTED_GRANT_TYPE: { error: "unsupported_grant_type" },
  UNAUTHORIZED: { error: "invalid_grant" },
  INVALID_CLIENT: { error: "invalid_client", status: 401 },
  NOT_FOUND: { error: "invalid_request", status: 404 },
  METHOD_NOT_ALLOWED: { error: "invalid_request", status: 405 },
  CONFLICT: { error: "invalid_request", status: 409 },
  PAYLOAD_TOO_LARGE: { error: "invalid_request", status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { error: "invalid_request", status: 415 },
  TOOMANYREQUESTS: { error: "temporarily_unavailable", status: 429 },
});

/** Headers of every answer of this service: JSON, never cached. */
const NO_STORE = { "Content-Type": "application/json", "Cache-Control": "no-store" } as const;

/** One of this service's error codes. */
export type AuthErrorCode = keyof typeof AUTH_ERRORS;

/** Optional parts of an AuthError: a message replacing the table's, JSON detail, extra response headers. */
export interface AuthErrorOptions {
  message?: string;
  detail?: unknown;
  headers?: Record<string, string>;
}

/** An error answered to the client as is: code, status from the table, message, detail and headers. */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(code: AuthErrorCode, options: AuthErrorOptions = {}) {
    super(options.message ?? AUTH_ERRORS[code].message);
    this.name = "AuthError";
    this.code = code;
    this.status = AUTH_ERRORS[code].status;
    this.detail = options.detail;
    this.headers = { ...options.headers };
  }

  /** `{"errors":[…]}` with this error's status and headers, never cached. */
  toResponse(): Response {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.detail !== undefined) error.detail = this.detail;
    return new Response(JSON.stringify({ errors: [error] }), { status: this.status, headers: { ...NO_STORE, ...this.headers } });
  }

  /**
   * RFC 6749 §5.2 `{"error", "error_description"}` with the OAuth2 status of this code (see OAUTH_ERRORS), never
   * cached; `Retry-After` kept, and `WWW-Authenticate` only on a 401 (`invalid_client`).
   */
  toOAuthResponse(): Response {
    const { error, status = 400 } = OAUTH_ERRORS[this.code];
    const headers: Record<string, string> = { ...NO_STORE, ...this.headers };
    if (status !== 401) delete headers["WWW-Authenticate"];
    return new Response(JSON.stringify({ error, error_description: this.message }), { status, headers });
  }
}

/** A 400 INVALID_REQUEST with this message. */
export function badRequest(message: string): AuthError {
  return new AuthError("INVALID_REQUEST", { message });
}

/**
 * The response for any thrown value: AuthErrors as they are (RFC 6749's format when `oauth`), anything else
 * logged and answered as the registry answers it: 500 UNKNOWN naming the request id (`X-Request-Id` too).
 */
export function errorResponse(e: unknown, requestId: string, oauth = false): Response {
  if (e instanceof AuthError) return oauth ? e.toOAuthResponse() : e.toResponse();
  console.error(`auth: request ${requestId} failed:`, e);
  const response = OciError.internal(requestId).toResponse();
  response.headers.set("Cache-Control", "no-store");
  return response;
}
