import type { RepositoryName } from "@registry/core";
import type { RouteMiddleware } from "@registry/api";
import type { PullTimes } from "@registry/storage";

/**
 * Records when tags are pulled (a manifest GET by tag that answered 200), for retention rules' "pulled within D
 * days": through PullTimes, at most one write per tag per hour per isolate; a failed write loses only that note.
 */
export function recordPullTimes(times: PullTimes): RouteMiddleware {
  return async ({ route, request, params }, next) => {
    const response = await next();
    const reference = params.reference ?? "";
    if (!route.countsAsPull || request.method !== "GET" || response.status !== 200 || reference.includes(":")) return response;
    await times.note((params.name ?? "") as RepositoryName, reference)?.catch((e: unknown) => console.warn("pull time not recorded:", e));
    return response;
  };
}
