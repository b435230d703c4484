import { OciError, type ErrorCode, type OciErrorOptions, type StatusVariant } from "@registry/core";
import type { Upstream } from "./upstreams";

/** Why an upstream could not give what was asked; the cache decides whether a stale copy may serve instead. */
export type UpstreamFailure =
  /** No connection, or it broke before an answer (refused, reset, DNS). */
  | { kind: "unreachable"; reason: string }
  /** An answer the mirror cannot use: a 5xx, or any other status that is not success, 404, 401/403 or 429. */
  | { kind: "status"; status: number }
  /** No answer, or no byte of its body, for `seconds`. */
  | { kind: "timeout"; seconds: number; midBody: boolean }
  /** The connection broke in the middle of the body. */
  | { kind: "broken" }
  /** Content that is not what was asked for (wrong digest, unparseable manifest or token answer). */
  | { kind: "invalid"; reason: string }
  | { kind: "rate-limited"; retryAfter?: string }
  /** 401/403 after the token dance: the mirror's credentials do not reach `repository`. */
  | { kind: "denied"; repository: string };

/**
 * An upstream failure as the client sees it: an `OciError` (rendered by the one error handler) whose message
 * names the upstream and says what went wrong, in words of this service — never the runtime's error text.
 * Gateway failures are `UNKNOWN` (what distribution's proxy answers; the spec has no code for them) with 502
 * (unreachable, broken, bad content, upstream 5xx), 503 (the upstream said 503) or 504 (timeout); the
 * upstream's 429 stays TOOMANYREQUESTS with its Retry-After, its 401/403 becomes DENIED.
 */
export class UpstreamError extends OciError {
  constructor(
    readonly upstream: Upstream,
    readonly failure: UpstreamFailure,
  ) {
    const [code, options] = describe(upstream, failure);
    super(code, options);
    this.name = "UpstreamError";
  }
}

function describe(upstream: Upstream, f: UpstreamFailure): [ErrorCode | StatusVariant, OciErrorOptions] {
  const who = `upstream ${upstream.host} (${displayUrl(upstream.url)})`;
  const detail = { upstream: upstream.host };
  switch (f.kind) {
    case "unreachable":
      return ["badGateway", { message: `${who} is unreachable: ${f.reason}`, detail }];
    case "status":
      return [f.status === 503 ? "upstreamUnavailable" : "badGateway", { message: `${who} answered ${f.status}`, detail }];
    case "timeout": {
      const what = f.midBody ? "sent nothing more of its answer for" : "timed out after";
      return ["gatewayTimeout", { message: `${who} ${what} ${f.seconds} s`, detail }];
    }
    case "broken":
      return ["badGateway", { message: `${who} dropped the connection in the middle of its answer`, detail }];
    case "invalid":
      return ["badGateway", { message: `${who} sent ${f.reason}`, detail }];
    case "rate-limited":
      return [
        "TOOMANYREQUESTS",
        { message: `${who} is rate-limiting this mirror`, detail, headers: f.retryAfter ? { "Retry-After": f.retryAfter } : {} },
      ];
    case "denied":
      return ["DENIED", { message: `${who} refused access to ${f.repository}`, detail }];
  }
}

/** The upstream's URL without credentials a configuration might carry in it. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/**
 * A fetch failure in words of this service: workerd reports a refused or reset connection as "Network
 * connection lost." and a failed DNS lookup as "internal error; reference = …" — neither is shown to clients.
 */
export function unreachableReason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return /connection (lost|refused|reset)|ECONNREFUSED|ECONNRESET/i.test(text) ? "connection refused or lost" : "connection failed";
}
