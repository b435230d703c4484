import { OciError } from "@registry/core";
import type { PullAllowance, PullCounter } from "./pull-counter";
import { clientAddress } from "./client-key";

export interface PullLimitOptions {
  counters: DurableObjectNamespace<PullCounter>;
  /** Pulls per window for anonymous clients (per address), e.g. 100. */
  anonymousLimit: number;
  /** Pulls per window for authenticated accounts, e.g. 200. */
  accountLimit: number;
  /** Window length in seconds, e.g. 21600 (6 hours). */
  windowSec: number;
  /** The account a request is authenticated as, or null for anonymous. */
  account?: (request: Request) => Promise<string | null>;
}

const MANIFEST_PATH = /^\/v2\/.+\/manifests\/[^/]+$/;

/**
 * Docker Hub's pull limits around a /v2 app: a pull is a manifest GET (HEAD and blob GETs are free); each
 * manifest response carries `RateLimit-Limit: 100;w=21600`, `RateLimit-Remaining: N;w=21600` and
 * `Docker-RateLimit-Source`; past the limit → 429 TOOMANYREQUESTS with Retry-After. Counted per account
 * when the request is authenticated, else per address (see clientAddress).
 */
export function withPullLimit(
  fetch: (request: Request) => Promise<Response>,
  options: PullLimitOptions,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const isManifest = (request.method === "GET" || request.method === "HEAD") && MANIFEST_PATH.test(url.pathname);
    if (!isManifest) return fetch(request);
    const account = (await options.account?.(request)) ?? null;
    const source = account ?? clientAddress(request);
    const limit = account ? options.accountLimit : options.anonymousLimit;
    const counter = options.counters.get(options.counters.idFromName(account ? `account:${account}` : `address:${source}`));
    const allowance: PullAllowance = await counter.hit(limit, options.windowSec, request.method === "GET");
    const headers = {
      "RateLimit-Limit": `${limit};w=${options.windowSec}`,
      "RateLimit-Remaining": `${allowance.remaining};w=${options.windowSec}`,
      "Docker-RateLimit-Source": source,
    };
    if (allowance.retryAfter !== undefined) {
      return new OciError("TOOMANYREQUESTS", {
        detail: `pull limit of ${limit} per ${options.windowSec} s reached for ${source}`,
        headers: { ...headers, "Retry-After": String(allowance.retryAfter) },
      }).toResponse(request.method === "HEAD");
    }
    const response = await fetch(request);
    for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
    return response;
  };
}
