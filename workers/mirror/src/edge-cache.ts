/**
 * Content addressed by digest never changes, so the mirror keeps it in the platform's edge cache (the Cache
 * API: per location, free of storage operations). A repeated pull of a manifest or blob by digest is then
 * answered at the edge without touching R2 or a Durable Object. Ranges, HEAD and tags go through as usual.
 * Which requests qualify is the route table's to say (`cacheableByDigest`), not a second parse of the path.
 */
import { parseDigest, verifyBytes } from "@registry/core";
import { READ_ROUTES, requestedDigest, routeMatcher, type MatchedRoute, type RouteMiddleware } from "@registry/api";

/**
 * Larger responses are not put in the edge cache: a copy is held in memory until its digest is checked, so
 * that nothing unverified (a blob still being filled from upstream) can ever be stored there.
 */
export const EDGE_CACHE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The edge cache as middleware of the mirror's app: a GET of a `cacheableByDigest` route by digest, without
 * `Range`, is answered from `cache` (per upstream host) when there; a 200 of at most EDGE_CACHE_MAX_BYTES is
 * stored once its body hashes to the digest. Anything else, or no cache, goes to `serve` untouched.
 */
export function edgeCache(upstreamHost: string, cache: Cache | undefined, waitUntil: (work: Promise<unknown>) => void): RouteMiddleware {
  return async (matched: MatchedRoute, serve: () => Promise<Response>) => {
    const { request, url } = matched;
    const digest = requestedDigest(matched);
    if (!cache || request.method !== "GET" || request.headers.has("Range") || !digest) return serve();
    const key = new Request(`https://edge-cache.invalid/${encodeURIComponent(upstreamHost)}${url.pathname}`);
    const hit = await cache.match(key);
    if (hit) return new Response(hit.body, hit);
    const response = await serve();
    const length = Number(response.headers.get("Content-Length"));
    if (response.status === 200 && response.body && length > 0 && length <= EDGE_CACHE_MAX_BYTES) {
      const copy = response.clone();
      waitUntil(storeVerified(cache, key, copy, digest).catch(() => undefined));
    }
    return response;
  };
}

const matchRead = routeMatcher(READ_ROUTES);

/** `edgeCache` for one request outside an app: the request is matched against the read routes. */
export async function withEdgeCache(
  request: Request,
  upstreamHost: string,
  cache: Cache | undefined,
  waitUntil: (work: Promise<unknown>) => void,
  serve: () => Promise<Response>,
): Promise<Response> {
  const matched = await matchRead(request);
  return matched ? edgeCache(upstreamHost, cache, waitUntil)(matched, serve) : serve();
}

/** Puts `response` in the cache only if its whole body arrives and hashes to `digest` (else throws, caching nothing). */
async function storeVerified(cache: Cache, key: Request, response: Response, digest: string): Promise<void> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  await verifyBytes(parseDigest(digest), bytes);
  const headers = new Headers(response.headers);
  headers.set("Cache-Control", "public, max-age=31536000, immutable");
  headers.delete("X-Storage-Ops");
  headers.delete("RateLimit-Limit");
  headers.delete("RateLimit-Remaining");
  headers.delete("Docker-RateLimit-Source");
  await cache.put(key, new Response(bytes, { status: 200, headers }));
}
