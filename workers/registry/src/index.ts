import {
  bodyLimit,
  createRegistryApp,
  openAuthorize,
  parseBodyLimit,
  readOnlyAuthorize,
  tokenAuthorize,
  type Authorize,
  type RegistryApp,
  type RouteMiddleware,
  withoutBlobOrigin,
} from "@registry/api";
import { finishRequest, startRequest, type RequestRecord } from "@registry/core";
import { serviceVerifier } from "@registry/token";
import { pullLimit } from "@registry/ratelimit";
import {
  createEdgeStores,
  createMeteredEdgeStores,
  createMeteredStores,
  createStores,
  DoLifecycleJobs,
  DoPolicyStore,
  edgeTiming,
  formatStorageOps,
  Indexes,
  IsolateCache,
  newStorageOps,
  PullStats,
  reconcileEdge,
  type EdgeCacheValue,
  type EdgeIndex,
} from "@registry/storage";

import { adminFetch } from "./admin";
import { recordPulls } from "./pull-stats";
import { scheduledLifecycle } from "./scheduled";
import { uiFetch } from "./ui/wiring";
import { replicationAdminFor, replicationEventsFor, replicationQueue, scheduledReplication } from "./replication/wiring";
import type { ReplicationMessage } from "./replication/rules";

export { BlobIndex, CatalogIndex, LifecycleRunner, RegistryPolicy, RepositoryIndex } from "@registry/storage";
export { ReplicationLog } from "@registry/storage";
export { PullCounter } from "@registry/ratelimit";

/**
 * Bindings of the registry worker, generated from wrangler.toml by `wrangler types` (worker-configuration.d.ts;
 * `pnpm typecheck` fails when it is stale). What each binding is for: the comments in wrangler.toml.
 */
export type Env = RegistryBindings & {
  /** Bearer token of the admin API (/admin/, a secret); unset = the admin API is closed. */
  ADMIN_TOKEN?: string;
};

function namespaces(env: Env) {
  return { repositories: env.REPOSITORY_INDEX, catalog: env.CATALOG, blobs: env.BLOB_INDEX };
}

let pullStats: { env: Env; middleware: RouteMiddleware } | undefined;

/** Pull counts and times, batched by this isolate (one write per repository a minute at most; PULL_STATS_FLUSH s). */
function pullStatsFor(env: Env): RouteMiddleware {
  if (pullStats?.env !== env) {
    const flushMs = env.PULL_STATS_FLUSH ? Number(env.PULL_STATS_FLUSH) * 1000 : undefined;
    pullStats = { env, middleware: recordPulls(new PullStats(new Indexes(namespaces(env)), flushMs)) };
  }
  return pullStats.middleware;
}

let cached: { env: Env; app: RegistryApp } | undefined;

let tokenAuth: { env: Env; authorize: Authorize } | undefined;

/** Token auth when a realm is configured; otherwise read-only, or open for local development. */
function authorizeFor(env: Env): Authorize {
  if (!env.AUTH_REALM) return env.WRITE_ACCESS === "open" ? openAuthorize : readOnlyAuthorize;
  if (tokenAuth?.env !== env) {
    // Keys through the service binding, or else from the realm's host over the internet.
    const { service, verify } = serviceVerifier(env)!;
    tokenAuth = { env, authorize: tokenAuthorize({ realm: env.AUTH_REALM, service, verify }) };
  }
  return tokenAuth.authorize;
}

let edgeIndex: { env: Env; index: EdgeIndex | undefined } | undefined;

/**
 * The edge index (KV binding EDGE_INDEX) with this isolate's cache of it, and the staleness bound EDGE_STALENESS
 * (seconds, default 60); undefined without the binding (every read then goes to the Durable Objects).
 */
function edgeFor(env: Env): EdgeIndex | undefined {
  if (edgeIndex?.env !== env) {
    const timing = edgeTiming(env.EDGE_STALENESS ? Number(env.EDGE_STALENESS) : undefined);
    const cache = new IsolateCache<EdgeCacheValue>(timing.isolateTtlSec * 1000);
    const coloNamespace = env.EDGE_CACHE_NAMESPACE || "edge-registry";
    const index = env.EDGE_INDEX ? { kv: env.EDGE_INDEX, timing, cache, colo: caches.default, coloNamespace } : undefined;
    edgeIndex = { env, index };
  }
  return edgeIndex.index;
}

/** Wiring only: bindings → stores → the /v2 app. Built once per isolate. */
function appFor(env: Env): RegistryApp {
  if (cached?.env !== env) {
    const edge = edgeFor(env);
    const stores = createStores(env.REGISTRY_BUCKET, namespaces(env));
    const app = createRegistryApp({
      stores,
      policy: new DoPolicyStore(env.POLICY),
      ...(edge ? { edge: createEdgeStores(env.REGISTRY_BUCKET, namespaces(env), edge) } : {}),
      authorize: authorizeFor(env),
    });
    cached = { env, app };
  }
  return cached.app;
}

/** The same app over stores that count this one request's storage work (the isolate's edge cache is shared). */
async function meteredFetch(request: Request, env: Env, around: readonly RouteMiddleware[], record: RequestRecord): Promise<Response> {
  const ops = newStorageOps();
  const edge = edgeFor(env);
  const app = createRegistryApp({
    stores: createMeteredStores(env.REGISTRY_BUCKET, namespaces(env), ops),
    policy: new DoPolicyStore(env.POLICY),
    ...(edge ? { edge: createMeteredEdgeStores(env.REGISTRY_BUCKET, namespaces(env), edge, ops) } : {}),
    authorize: authorizeFor(env),
  });
  const response = await app.fetch(request, undefined, around, record);
  record.ops = formatStorageOps(ops);
  response.headers.set("X-Storage-Ops", record.ops);
  return response;
}

/** The mirror's pull limits, switched on for this registry's pulls by RATE_LIMIT_ANONYMOUS. */
function pullLimits(env: Env): RouteMiddleware[] {
  if (!env.RATE_LIMIT_ANONYMOUS) return [];
  const limit = Number(env.RATE_LIMIT_ANONYMOUS);
  const windowSec = Number(env.RATE_LIMIT_WINDOW ?? 21600);
  return [pullLimit({ counters: env.PULL_COUNTER, anonymousLimit: limit, accountLimit: limit, windowSec })];
}

/** The request body limit (MAX_REQUEST_BODY bytes; empty = none): 413 over it, OCI-Chunk-Max-Length on a new upload. */
function bodyLimits(env: Env): RouteMiddleware[] {
  const limit = parseBodyLimit(env.MAX_REQUEST_BODY);
  return limit === undefined ? [] : [bodyLimit(limit)];
}

/** Routes one request: the admin API, or the /v2 app with its middleware (metered when STORAGE_METRICS=on). */
function serve(incoming: Request, env: Env, record: RequestRecord): Promise<Response> {
  // X-Blob-Origin comes from the local front only (TRUST_BLOB_ORIGIN=on): elsewhere a client's copy is dropped.
  const request = env.TRUST_BLOB_ORIGIN === "on" ? incoming : withoutBlobOrigin(incoming);
  if (new URL(request.url).pathname.startsWith("/ui/api/")) return uiFetch(request, env);
  if (new URL(request.url).pathname.startsWith("/admin/")) {
    record.route = "admin";
    return adminFetch(request, env.ADMIN_TOKEN, {
      policy: new DoPolicyStore(env.POLICY),
      jobs: new DoLifecycleJobs(env.LIFECYCLE),
      replication: replicationAdminFor(env),
      indexes: new Indexes(namespaces(env)),
    });
  }
  const around = [...bodyLimits(env), ...pullLimits(env), pullStatsFor(env), ...replicationEventsFor(env)];
  return env.STORAGE_METRICS === "on" ? meteredFetch(request, env, around, record) : appFor(env).fetch(request, undefined, around, record);
}

export default {
  async fetch(incoming: Request, env: Env): Promise<Response> {
    // One JSON log line and one Analytics Engine data point per request (core request-log.ts; METRICS optional).
    const record = startRequest("registry", incoming);
    return finishRequest(record, incoming, await serve(incoming, env, record), env.METRICS);
  },

  /**
   * The Cron Triggers: at REPLICATION_CRON, every tag the replication rules cover is queued; otherwise one bounded
   * step of the edge index's reconciler (packages/storage reconcileEdge) with a
   * resume of a stalled lifecycle run; at RETENTION_CRON / GC_CRON, a retention run / a garbage collection.
   */
  async scheduled(controller: ScheduledController, env: Env): Promise<void> {
    if (env.REPLICATION_CRON && controller.cron === env.REPLICATION_CRON) {
      await scheduledReplication(env);
      return;
    }
    const jobs = new DoLifecycleJobs(env.LIFECYCLE);
    if (controller.cron === env.RETENTION_CRON || controller.cron === env.GC_CRON) {
      await scheduledLifecycle(controller.cron, env, jobs, new DoPolicyStore(env.POLICY));
      return;
    }
    await jobs.kick();
    if (!env.EDGE_INDEX) return;
    const report = await reconcileEdge(env.EDGE_INDEX, new Indexes(namespaces(env)));
    console.log(JSON.stringify({ event: "edge-reconcile", ...report }));
  },

  /** The replication queue's consumer (this worker produces and consumes it): replication/consumer.ts. */
  async queue(batch: MessageBatch, env: Env): Promise<void> {
    await replicationQueue(batch as MessageBatch<ReplicationMessage>, env);
  },
} satisfies ExportedHandler<Env>;
