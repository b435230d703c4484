/**
 * The registry's error vocabulary: the 14 codes of the OCI distribution spec plus distribution's `UNKNOWN`,
 * their default HTTP statuses and messages, and `OciError`, the one exception type the domain throws. Errors
 * are data: code throws `new OciError(code, {detail, headers})` and a single handler renders it with
 * `toResponse()`.
 *
 * Spec: OCI distribution-spec, "Error Codes" (code-1 … code-14); distribution's `errcode` package (UNKNOWN).
 */

/**
 * One of the 14 error codes the OCI distribution spec allows (spec "Error Codes"), or `UNKNOWN`. No others may
 * be sent. `UNKNOWN` is the reference registry's (distribution's `errcode.ErrorCodeUnknown`, registered beside
 * the spec's UNSUPPORTED, UNAUTHORIZED, DENIED and TOOMANYREQUESTS): what it, as a pull-through proxy, answers
 * when its upstream fails; clients that do not know a code read it as UNKNOWN anyway. The spec has no code for
 * "the server could not do it", so this one is used for exactly that — with the status that says why (502,
 * 503, 504 for a failing upstream).
 */
export type ErrorCode =
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "BLOB_UPLOAD_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_BLOB_UNKNOWN"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  | "UNKNOWN";

/**
 * The spec's 14 codes and UNKNOWN with their default HTTP status and message (messages are the spec's
 * descriptions, statuses follow the endpoint table and the reference implementation; UNKNOWN's are
 * distribution's). Spec: distribution-spec "Error Codes".
 */
export const ERROR_CODES: Readonly<Record<ErrorCode, { status: number; message: string }>> = Object.freeze({
  BLOB_UNKNOWN: { status: 404, message: "blob unknown to registry" },
  BLOB_UPLOAD_INVALID: { status: 400, message: "blob upload invalid" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: "blob upload unknown to registry" },
  DIGEST_INVALID: { status: 400, message: "provided digest did not match uploaded content" },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: "manifest references a manifest or blob unknown to registry" },
  MANIFEST_INVALID: { status: 400, message: "manifest invalid" },
  MANIFEST_UNKNOWN: { status: 404, message: "manifest unknown to registry" },
  NAME_INVALID: { status: 400, message: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, message: "repository name not known to registry" },
  SIZE_INVALID: { status: 400, message: "provided length did not match content length" },
  UNAUTHORIZED: { status: 401, message: "authentication required" },
  DENIED: { status: 403, message: "requested access to the resource is denied" },
  UNSUPPORTED: { status: 405, message: "the operation is unsupported" },
  TOOMANYREQUESTS: { status: 429, message: "too many requests" },
  UNKNOWN: { status: 500, message: "unknown error" },
});

/**
 * Optional parts of an `OciError`: `detail` (any JSON, shown to clients), extra response `headers`
 * (e.g. `WWW-Authenticate` on UNAUTHORIZED, `Retry-After` on TOOMANYREQUESTS), and overrides of the
 * table's `status` (e.g. 413 for an oversized manifest) and `message`.
 */
export interface OciErrorOptions {
  detail?: unknown;
  headers?: Record<string, string>;
  status?: number;
  message?: string;
}

/** Marks OciError instances so `isOciError` works even across duplicated module copies (bundles, test pools). */
const BRAND = Symbol.for("@registry/core/OciError");

/**
 * A registry error carrying one of the spec's codes. Thrown by every parser in core and by the layers above;
 * rendered once, by `toResponse()`, into the spec's `{"errors":[…]}` envelope.
 * Spec: distribution-spec "Error Codes".
 */
export class OciError extends Error {
  /** The spec error code. */
  readonly code: ErrorCode;
  /** HTTP status of the response (the table's default unless overridden). */
  readonly status: number;
  /** Unstructured JSON detail for the client; omitted from the envelope when undefined. */
  readonly detail: unknown;
  /** Extra response headers (challenge, Retry-After, …). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, options: OciErrorOptions = {}) {
    const entry = ERROR_CODES[code];
    super(options.message ?? entry.message);
    this.name = "OciError";
    this.code = code;
    this.status = options.status ?? entry.status;
    this.detail = options.detail;
    this.headers = { ...options.headers };
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The spec's error envelope: `{"errors":[{"code","message","detail"}]}`, `detail` omitted when undefined. */
  toJSON(): { errors: { code: ErrorCode; message: string; detail?: unknown }[] } {
    const error: { code: ErrorCode; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) error.detail = this.detail;
    return { errors: [error] };
  }

  /**
   * A `Response` with this error's status, `Content-Type: application/json`, `this.headers`, and the JSON
   * envelope as body — no body when `head` is true (responses to HEAD carry none).
   */
  toResponse(head = false): Response {
    const headers: Record<string, string> = { "Content-Type": "application/json", ...this.headers };
    return new Response(head ? null : JSON.stringify(this.toJSON()), { status: this.status, headers });
  }
}

/** True if `e` is an `OciError` (also one created by another copy of this module). Never throws. */
export function isOciError(e: unknown): e is OciError {
  return e instanceof OciError || (typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true);
}
