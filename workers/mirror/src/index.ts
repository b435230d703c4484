import { createRegistryApp, READ_ROUTES, type Authorize, type Grant } from "@registry/api";
import { OciError, type RepositoryName } from "@registry/core";
import { cacheRepository, parseUpstreams, type BlobFills, pullThroughStores, selectUpstream, UpstreamClient, type UpstreamConfig } from "@registry/mirror";
import { withPullLimit, type PullCounter } from "@registry/ratelimit";
import {
  createMeteredStores,
  createStores,
  formatStorageOps,
  meterNamespace,
  newStorageOps,
  type CatalogIndex,
  type RepositoryIndex,
  type StorageOps,
} from "@registry/storage";

export { CatalogIndex, RepositoryIndex } from "@registry/storage";
export { PullCounter } from "@registry/ratelimit";
export { BlobFills } from "@registry/mirror";

/** Bindings of the mirror worker (workers/mirror/wrangler.toml). */
export interface Env {
  /** The cache: blobs and large manifests (its own bucket, apart from the registry's). */
  MIRROR_BUCKET: R2Bucket;
  REPOSITORY_INDEX: DurableObjectNamespace<RepositoryIndex>;
  CATALOG: DurableObjectNamespace<CatalogIndex>;
  /** Fill leases: one upstream fetch per blob across isolates. */
  BLOB_FILLS: DurableObjectNamespace<BlobFills>;
  /** One counter per client for the pull limits. */
  PULL_COUNTER: DurableObjectNamespace<PullCounter>;
  /** `{"docker.io": {"url": "https://registry-1.docker.io", "credentials": "DOCKERHUB"}}` */
  UPSTREAMS: string;
  /** Served without `?ns=`; default docker.io. */
  DEFAULT_UPSTREAM?: string;
  /** Seconds a cached tag is served before revalidation (default 300). */
  TAG_TTL?: string;
  /** Pull limits: anonymous per address, authenticated per account, window in seconds. */
  RATE_LIMIT_ANONYMOUS?: string;
  RATE_LIMIT_AUTHENTICATED?: string;
  RATE_LIMIT_WINDOW?: string;
  /** "on": every response carries `X-Storage-Ops` (what it cost in R2 operations and DO calls); benchmarks. */
  STORAGE_METRICS?: string;
  [secret: string]: unknown;
}

/** Reads are open to everyone; the mirror accepts no writes (its routes are the read routes only). */
const readOnly: Authorize = async (_request, access) => {
  if (access.type === "repository" && access.actions.some((a) => a !== "pull")) {
    throw new OciError("UNSUPPORTED", { detail: "this mirror is read-only" });
  }
  const grant: Grant = { canPull: () => true };
  return grant;
};

/** Built once per isolate; the stores are chosen per request (they depend on `?ns=`). */
const app = createRegistryApp({ routes: READ_ROUTES, authorize: readOnly });
let config: { raw: string; parsed: UpstreamConfig } | undefined;

function upstreams(env: Env): UpstreamConfig {
  if (config?.raw !== env.UPSTREAMS) {
    config = { raw: env.UPSTREAMS, parsed: parseUpstreams(env.UPSTREAMS, env.DEFAULT_UPSTREAM ?? "docker.io", env) };
  }
  return config.parsed;
}

/**
 * Wiring only: `?ns=` (containerd hosts.toml) selects the upstream, the read routes of the /v2 app run over
 * pull-through stores, and Docker-Hub-style pull limits wrap the manifest routes.
 */
async function serve(request: Request, env: Env, ctx: ExecutionContext, ops?: StorageOps): Promise<Response> {
  const ns = new URL(request.url).searchParams.get("ns");
  let upstream;
  try {
    upstream = selectUpstream(upstreams(env), ns);
  } catch (e) {
    return e instanceof OciError ? e.toResponse(request.method === "HEAD") : Promise.reject(e);
  }
  const stores = pullThroughStores({
    local: ops
      ? createMeteredStores(env.MIRROR_BUCKET, { repositories: env.REPOSITORY_INDEX, catalog: env.CATALOG }, ops)
      : createStores(env.MIRROR_BUCKET, { repositories: env.REPOSITORY_INDEX, catalog: env.CATALOG }),
    upstream: new UpstreamClient(upstream),
    cacheName: (repository) => cacheRepository(upstream, repository) as RepositoryName,
    tagTtlMs: Number(env.TAG_TTL ?? 300) * 1000,
    waitUntil: (work) => ctx.waitUntil(work),
    fills: env.BLOB_FILLS,
  });
  const response = await app.fetch(request, { stores });
  if (ns) response.headers.set("OCI-Namespace", ns);
  return response;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const ops = env.STORAGE_METRICS === "on" ? newStorageOps() : undefined;
    const limited = withPullLimit((r) => serve(r, env, ctx, ops), {
      counters: ops ? meterNamespace(env.PULL_COUNTER, ops) : env.PULL_COUNTER,
      anonymousLimit: Number(env.RATE_LIMIT_ANONYMOUS ?? 100),
      accountLimit: Number(env.RATE_LIMIT_AUTHENTICATED ?? 200),
      windowSec: Number(env.RATE_LIMIT_WINDOW ?? 21600),
    });
    const response = await limited(request);
    if (ops) response.headers.set("X-Storage-Ops", formatStorageOps(ops));
    return response;
  },
} satisfies ExportedHandler<Env>;
