import { createRegistryApp, errorResponse, READ_ROUTES, readOnlyAuthorize, withoutBlobOrigin, type RouteMiddleware } from "@registry/api";
import { finishRequest, startRequest, type RepositoryName, type RequestRecord } from "@registry/core";
import { cacheRepository, parseUpstreams, pullThroughStores, selectUpstream, UpstreamClient, type UpstreamConfig } from "@registry/pull-through";
import { edgeCache } from "./edge-cache";
import { pullLimit } from "@registry/ratelimit";
import { parseBearer, serviceVerifier, type ServiceVerifier } from "@registry/token";
import {
  createMeteredStores,
  createStores,
  formatStorageOps,
  meterNamespace,
  newStorageOps,
  type StorageOps,
} from "@registry/storage";

export { BlobIndex, CatalogIndex, RepositoryIndex } from "@registry/storage";
export { PullCounter } from "@registry/ratelimit";
export { BlobFills } from "@registry/pull-through";

/**
 * Bindings of the mirror worker, generated from workers/mirror/wrangler.toml by `wrangler types`
 * (worker-configuration.d.ts; `pnpm typecheck` fails when it is stale), plus the upstream credentials: secrets
 * named in UPSTREAMS (`"credentials": "DOCKERHUB"`), which no config file lists.
 */
export type Env = MirrorBindings & { [secret: string]: unknown };

/**
 * Built once per isolate; the stores are chosen per request (they depend on `?ns=`). Only the read routes
 * exist, and reads are open to everyone (the registry's read-only default).
 */
const app = createRegistryApp({ routes: READ_ROUTES, authorize: readOnlyAuthorize });
let config: { raw: string; parsed: UpstreamConfig } | undefined;

function upstreams(env: Env): UpstreamConfig {
  const raw = `${env.UPSTREAMS} ${env.DEFAULT_UPSTREAM} ${env.UPSTREAM_TIMEOUT}`;
  if (config?.raw !== raw) {
    const timeoutSec = env.UPSTREAM_TIMEOUT ? Number(env.UPSTREAM_TIMEOUT) : undefined;
    config = { raw, parsed: parseUpstreams(env.UPSTREAMS, env.DEFAULT_UPSTREAM ?? "docker.io", env, timeoutSec) };
  }
  return config.parsed;
}

/**
 * Wiring only: `?ns=` (containerd hosts.toml) selects the upstream, the read routes of the /v2 app run over
 * pull-through stores, with Docker-Hub-style pull limits and the edge cache as middleware of the matched route.
 * An `ns` that names no upstream is answered by the app too (after the pull limits, which give the pull back).
 */
async function serve(request: Request, env: Env, ctx: ExecutionContext, record: RequestRecord, ops?: StorageOps): Promise<Response> {
  const ns = new URL(request.url).searchParams.get("ns");
  const limits = pullLimit({
    counters: ops ? meterNamespace(env.PULL_COUNTER, ops) : env.PULL_COUNTER,
    anonymousLimit: Number(env.RATE_LIMIT_ANONYMOUS ?? 100),
    accountLimit: Number(env.RATE_LIMIT_AUTHENTICATED ?? 200),
    windowSec: Number(env.RATE_LIMIT_WINDOW ?? 21600),
    account: async (r) => {
      const account = await accountOf(r, env);
      if (account) record.subject = account;
      return account;
    },
  });
  let upstream: ReturnType<typeof selectUpstream>;
  try {
    upstream = selectUpstream(upstreams(env), ns);
  } catch (e) {
    const refuse: RouteMiddleware = () => Promise.reject(e);
    return app.fetch(request, undefined, [limits, refuse], record);
  }
  const namespaces = { repositories: env.REPOSITORY_INDEX, catalog: env.CATALOG, blobs: env.BLOB_INDEX };
  const stores = pullThroughStores({
    local: ops ? createMeteredStores(env.MIRROR_BUCKET, namespaces, ops) : createStores(env.MIRROR_BUCKET, namespaces),
    upstream: new UpstreamClient(upstream),
    cacheName: (repository) => cacheRepository(upstream, repository) as RepositoryName,
    tagTtlMs: Number(env.TAG_TTL ?? 300) * 1000,
    waitUntil: (work) => ctx.waitUntil(work),
    fills: env.BLOB_FILLS,
  });
  const cache = env.EDGE_CACHE === "off" ? undefined : caches.default;
  const response = await app.fetch(request, { stores }, [limits, edgeCache(upstream.host, cache, (w) => ctx.waitUntil(w))], record);
  if (ns) response.headers.set("OCI-Namespace", ns);
  return response;
}

let verifier: ServiceVerifier | null = null;

/**
 * The account a request is authenticated as: the `sub` of a valid bearer token from the auth worker, counted
 * with the authenticated limit; anything else (no token, anonymous or invalid token) counts as anonymous.
 * The mirror never challenges: it is public, tokens only raise a client's limit.
 */
async function accountOf(request: Request, env: Env): Promise<string | null> {
  const token = parseBearer(request.headers.get("Authorization"));
  if (!token || !env.AUTH) return null;
  verifier ??= serviceVerifier(env);
  try {
    const claims = await verifier!.verify(token);
    return claims.sub || null;
  } catch {
    return null;
  }
}

export default {
  async fetch(incoming: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    // Only the registry behind the local front redirects big blob GETs; a client may not pick an origin here.
    const request = withoutBlobOrigin(incoming);
    const ops = env.STORAGE_METRICS === "on" ? newStorageOps() : undefined;
    const record = startRequest("mirror", incoming); // one log line and data point per request (core request-log.ts)
    // Whatever escapes (a broken configuration, a storage failure outside the app) is still the envelope.
    const response = await serve(request, env, ctx, record, ops).catch((e: unknown) => errorResponse(e, request.method === "HEAD"));
    if (ops) {
      record.ops = formatStorageOps(ops);
      response.headers.set("X-Storage-Ops", record.ops);
    }
    return finishRequest(record, incoming, response, env.METRICS);
  },
} satisfies ExportedHandler<Env>;
