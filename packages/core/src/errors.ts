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
 * The only statuses besides the table's defaults, each one named: a spec code answered with another status
 * where the spec, HTTP or a gateway asks for it. `new OciError(<variant name>, …)` and `OciError`'s static
 * constructors of the same names build them; nothing else should override a status. Spec: distribution-spec "Pushing a blob in chunks" (416), "Pushing manifests"
 * (413); RFC 9110 §15.5.17 (416 Range Not Satisfiable); Docker "Token Authentication Specification" (401).
 */
export const STATUS_VARIANTS = Object.freeze({
  /** A chunk not at the upload's end, or a malformed upload `Content-Range`. */
  uploadRangeInvalid: { code: "BLOB_UPLOAD_INVALID", status: 416 },
  /** A blob `Range` that does not overlap the blob. */
  rangeNotSatisfiable: { code: "SIZE_INVALID", status: 416 },
  /** A body over the size this endpoint reads (a manifest, a JSON body). */
  tooLarge: { code: "SIZE_INVALID", status: 413 },
  /** A query parameter this endpoint cannot use (e.g. `?n=` not a number). */
  badParameter: { code: "UNSUPPORTED", status: 400 },
  /** A path that is not an endpoint of the API. */
  notFound: { code: "UNSUPPORTED", status: 404 },
  /** A token without the actions the route needs: DENIED, but answered with the 401 challenge. */
  insufficientScope: { code: "DENIED", status: 401 },
  /** A failing upstream (unreachable, broken, bad content, a 5xx). */
  badGateway: { code: "UNKNOWN", status: 502 },
  /** The upstream said 503. */
  upstreamUnavailable: { code: "UNKNOWN", status: 503 },
  /** The upstream took too long. */
  gatewayTimeout: { code: "UNKNOWN", status: 504 },
} as const satisfies Record<string, { code: ErrorCode; status: number }>);

/** The name of a status variant (see STATUS_VARIANTS). */
export type StatusVariant = keyof typeof STATUS_VARIANTS;

/** Options of a named constructor: everything but the status, which is the constructor's. */
export type VariantOptions = Omit<OciErrorOptions, "status">;

/**
 * Optional parts of an `OciError`: `detail` (any JSON, shown to clients), extra response `headers`
 * (e.g. `WWW-Authenticate` on UNAUTHORIZED, `Retry-After` on TOOMANYREQUESTS), a `message` replacing the
 * table's, and a raw `status` override (kept for compatibility: name the status in STATUS_VARIANTS instead).
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

  /** `code` is a spec code (the table's status) or the name of a status variant (its code and status). */
  constructor(code: ErrorCode | StatusVariant, options: OciErrorOptions = {}) {
    const variant = code in STATUS_VARIANTS ? STATUS_VARIANTS[code as StatusVariant] : undefined;
    const entry = variant ? { ...ERROR_CODES[variant.code], status: variant.status } : ERROR_CODES[code as ErrorCode];
    super(options.message ?? entry.message);
    this.name = "OciError";
    this.code = variant?.code ?? (code as ErrorCode);
    this.status = options.status ?? entry.status;
    this.detail = options.detail;
    this.headers = { ...options.headers };
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** 416 BLOB_UPLOAD_INVALID: an out-of-order chunk or a malformed `Content-Range` (spec "Pushing a blob in chunks"). */
  static uploadRangeInvalid(options: VariantOptions = {}): OciError {
    return new OciError("uploadRangeInvalid", options);
  }

  /** 416 SIZE_INVALID with a `Content-Range` naming the size: a blob range outside a blob of `size` bytes (RFC 9110 §15.5.17). */
  static rangeNotSatisfiable(size: number): OciError {
    return new OciError("rangeNotSatisfiable", {
      detail: "requested range not satisfiable",
      headers: { "Content-Range": `bytes */${size}` },
    });
  }

  /** 413 SIZE_INVALID: a body larger than the endpoint reads. */
  static tooLarge(detail: unknown): OciError {
    return new OciError("tooLarge", { detail });
  }

  /** 400 UNSUPPORTED: a query parameter the endpoint cannot use. */
  static badParameter(detail: unknown): OciError {
    return new OciError("badParameter", { detail });
  }

  /** 404 UNSUPPORTED: no endpoint at this path. */
  static notFound(detail: unknown): OciError {
    return new OciError("notFound", { detail });
  }

  /**
   * 401 with a `WWW-Authenticate` challenge: UNAUTHORIZED for no or a bad token, DENIED for a token without
   * the needed actions (`insufficient`). Docker "Token Authentication Specification".
   */
  static challenge(challenge: string, detail: unknown, insufficient = false): OciError {
    const options = { detail, headers: { "WWW-Authenticate": challenge } };
    return insufficient ? new OciError("insufficientScope", options) : new OciError("UNAUTHORIZED", options);
  }

  /**
   * 500 UNKNOWN naming `requestId` (in the detail and `X-Request-Id`): the answer to anything unexpected, whose
   * cause is only logged.
   */
  static internal(requestId: string): OciError {
    return new OciError("UNKNOWN", { detail: { requestId }, headers: { "X-Request-Id": requestId } });
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
