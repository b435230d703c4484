/**
 * Content addressed by digest never changes, so the mirror keeps it in the platform's edge cache (the Cache
 * API: per location, free of storage operations). A repeated pull of a manifest or blob by digest is then
 * answered at the edge without touching R2 or a Durable Object. Ranges, HEAD and tags go through as usual.
 */

/** `/v2/<name>/manifests/<digest>` or `/v2/<name>/blobs/<digest>`. */
const BY_DIGEST = /^\/v2\/.+\/(?:manifests|blobs)\/[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Larger responses are not put in the edge cache: a copy is held in memory until its digest is checked, so
 * that nothing unverified (a blob still being filled from upstream) can ever be stored there.
 */
export const EDGE_CACHE_MAX_BYTES = 16 * 1024 * 1024;

export async function withEdgeCache(
  request: Request,
  upstreamHost: string,
  cache: Cache | undefined,
  waitUntil: (work: Promise<unknown>) => void,
  serve: () => Promise<Response>,
): Promise<Response> {
  const url = new URL(request.url);
  if (!cache || request.method !== "GET" || request.headers.has("Range") || !BY_DIGEST.test(url.pathname)) {
    return serve();
  }
  const key = new Request(`https://edge-cache.invalid/${encodeURIComponent(upstreamHost)}${url.pathname}`);
  const hit = await cache.match(key);
  if (hit) return new Response(hit.body, hit);
  const response = await serve();
  const length = Number(response.headers.get("Content-Length"));
  if (response.status === 200 && response.body && length > 0 && length <= EDGE_CACHE_MAX_BYTES) {
    const copy = response.clone();
    const digest = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
    waitUntil(storeVerified(cache, key, copy, digest).catch(() => undefined));
  }
  return response;
}

const ALGORITHMS: Record<string, string> = { sha256: "SHA-256", sha512: "SHA-512" };

/** Puts `response` in the cache only if its whole body arrives and hashes to `digest`. */
async function storeVerified(cache: Cache, key: Request, response: Response, digest: string): Promise<void> {
  const [algorithm, hex] = digest.split(":");
  const name = ALGORITHMS[algorithm ?? ""];
  if (!name || !hex) return;
  const bytes = new Uint8Array(await response.arrayBuffer());
  const actual = [...new Uint8Array(await crypto.subtle.digest(name, bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (actual !== hex) return;
  const headers = new Headers(response.headers);
  headers.set("Cache-Control", "public, max-age=31536000, immutable");
  headers.delete("X-Storage-Ops");
  headers.delete("RateLimit-Limit");
  headers.delete("RateLimit-Remaining");
  headers.delete("Docker-RateLimit-Source");
  await cache.put(key, new Response(bytes, { status: 200, headers }));
}
