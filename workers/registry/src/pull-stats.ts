import type { RepositoryName } from "@registry/core";
import type { RouteMiddleware } from "@registry/api";
import type { PullStats } from "@registry/storage";

/**
 * Counts pulls of tags (a manifest GET by tag that answered 200: a pull, as for rate limits) with their time, for
 * statistics and retention rules' "pulled within D days": through PullStats, one write per repository per
 * isolate a minute at most; a failed write loses only that batch.
 */
export function recordPulls(stats: PullStats): RouteMiddleware {
  return async ({ route, request, params }, next) => {
    const response = await next();
    const reference = params.reference ?? "";
    if (!route.countsAsPull || request.method !== "GET" || response.status !== 200 || reference.includes(":")) return response;
    await stats.note((params.name ?? "") as RepositoryName, reference)?.catch((e: unknown) => console.warn("pull counts not recorded:", e));
    return response;
  };
}
