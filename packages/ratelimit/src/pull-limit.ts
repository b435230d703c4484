import { errorResponse, routeMatcher, type MatchedRoute, type RouteMiddleware } from "@registry/api";
import { clientAddress, OciError } from "@registry/core";
import type { PullAllowance, PullCounter, PullSlot } from "./pull-counter";

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

/** A manifest actually served: only these count as pulls. */
const served = (status: number) => status === 200 || status === 304;

/**
 * Docker Hub's pull limits as middleware of a /v2 app (`app.fetch(request, deps, [pullLimit(…)])`): a pull is
 * a GET of a `countsAsPull` route (a manifest) that is served (200, or 304 to a conditional GET); HEAD, blob
 * GETs and manifest GETs that fail (unknown tag, denied, upstream down) are free. Each manifest response
 * carries `RateLimit-Limit: 100;w=21600`, `RateLimit-Remaining: N;w=21600` and `Docker-RateLimit-Source`;
 * past the limit → 429 TOOMANYREQUESTS with Retry-After (the /v2 envelope), before `fetch` runs (a
 * client over its limit causes no work, and no upstream traffic in a mirror). The pull is taken from the
 * client's counter before `fetch` and given back if the answer is not a served manifest, so concurrent
 * pulls can never pass the limit together. Counted per account when the request is authenticated, else
 * per address (see clientAddress).
 */
export function pullLimit(options: PullLimitOptions): RouteMiddleware {
  return async ({ route, request }: MatchedRoute, fetch: () => Promise<Response>) => {
    if (!route.countsAsPull) return fetch();
    const account = (await options.account?.(request)) ?? null;
    const source = account ?? clientAddress(request);
    const limit = account ? options.accountLimit : options.anonymousLimit;
    const { windowSec } = options;
    const counter = options.counters.get(options.counters.idFromName(account ? `account:${account}` : `address:${source}`));
    const taken: PullAllowance & { slot?: PullSlot } =
      request.method === "GET" ? await counter.take(limit, windowSec) : await counter.look(limit, windowSec);
    const headers = (a: PullAllowance) => ({
      "RateLimit-Limit": `${limit};w=${windowSec}`,
      "RateLimit-Remaining": `${a.remaining};w=${windowSec}`,
      "Docker-RateLimit-Source": source,
    });
    if (taken.retryAfter !== undefined) {
      const error = new OciError("TOOMANYREQUESTS", {
        detail: `pull limit of ${limit} per ${windowSec} s reached for ${source}`,
        headers: { ...headers(taken), "Retry-After": String(taken.retryAfter) },
      });
      return errorResponse(error, request.method === "HEAD");
    }
    const slot = taken.slot;
    const giveBack = async (): Promise<PullAllowance> => {
      if (!slot) return taken;
      try {
        return await counter.giveBack(slot, limit, windowSec);
      } catch (e) {
        // The counter could not be reached: the pull stays counted rather than the answer being lost.
        console.warn(`pull limit: could not give back a pull of ${source}:`, e);
        return taken;
      }
    };
    let response: Response;
    try {
      response = await fetch();
    } catch (e) {
      await giveBack();
      throw e;
    }
    const allowance = served(response.status) ? taken : await giveBack();
    for (const [k, v] of Object.entries(headers(allowance))) response.headers.set(k, v);
    return response;
  };
}

/**
 * `pullLimit` around a bare fetch function (outside an app): the request is matched against the route table
 * (ROUTES) to find what counts; a request of no route passes through uncounted.
 */
export function withPullLimit(
  fetch: (request: Request) => Promise<Response>,
  options: PullLimitOptions,
): (request: Request) => Promise<Response> {
  const limit = pullLimit(options);
  const match = routeMatcher();
  return async (request) => {
    const matched = await match(request);
    return matched ? limit(matched, () => fetch(request)) : fetch(request);
  };
}
