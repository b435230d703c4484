/**
 * The auth service's error vocabulary, rendered once. Responses use the registry's `{"errors":[{code, message,
 * detail?}]}` envelope (what docker and containerd parse from a token endpoint). The codes are this service's
 * own (it is not the OCI API): `UNAUTHORIZED` rides with a `WWW-Authenticate` challenge, `TOOMANYREQUESTS` with
 * `Retry-After`. Anything that is not an `AuthError` becomes a logged 500 with a request id.
 */

/** This service's error codes with their HTTP status and default message. */
export const AUTH_ERRORS = Object.freeze({
  INVALID_REQUEST: { status: 400, message: "invalid request" },
  SCOPE_INVALID: { status: 400, message: "invalid scope" },
  UNSUPPORTED_GRANT_TYPE: { status: 400, message: "unsupported grant_type" },
  UNAUTHORIZED: { status: 401, message: "authentication required" },
  NOT_FOUND: { status: 404, message: "not found" },
  METHOD_NOT_ALLOWED: { status: 405, message: "method not allowed" },
  CONFLICT: { status: 409, message: "already exists" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "request body too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "unsupported content type" },
  TOOMANYREQUESTS: { status: 429, message: "too many failed attempts, try again later" },
  INTERNAL_ERROR: { status: 500, message: "internal error" },
} as const);

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
    return new Response(JSON.stringify({ errors: [error] }), {
      status: this.status,
      headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...this.headers },
    });
  }
}

/** A 400 INVALID_REQUEST with this message. */
export function badRequest(message: string): AuthError {
  return new AuthError("INVALID_REQUEST", { message });
}

/** The response for any thrown value: AuthErrors as they are, anything else logged and answered 500. */
export function errorResponse(e: unknown, requestId: string): Response {
  if (e instanceof AuthError) return e.toResponse();
  console.error(`auth: request ${requestId} failed:`, e);
  return new AuthError("INTERNAL_ERROR", { detail: { requestId } }).toResponse();
}
