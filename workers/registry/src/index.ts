import {
  createRegistryApp,
  openAuthorize,
  readOnlyAuthorize,
  tokenAuthorize,
  type Authorize,
  type RegistryApp,
  type RouteMiddleware,
} from "@registry/api";
import { serviceVerifier } from "@registry/token";
import { pullLimit, type PullCounter } from "@registry/ratelimit";
import {
  createMeteredStores,
  createStores,
  formatStorageOps,
  newStorageOps,
  type CatalogIndex,
  type RepositoryIndex,
} from "@registry/storage";

export { CatalogIndex, RepositoryIndex } from "@registry/storage";
export { PullCounter } from "@registry/ratelimit";

/** Bindings of the registry worker (wrangler.toml at the repository root). */
export interface Env {
  /** Blobs, manifests, tags, uploads: the strongly consistent source of truth (layout: packages/storage/STORAGE.md). */
  REGISTRY_BUCKET: R2Bucket;
  /** One Durable Object per repository: its manifests, tags, referrers and blob links (strongly consistent). */
  REPOSITORY_INDEX: DurableObjectNamespace<RepositoryIndex>;
  /** One Durable Object listing every repository (`/v2/_catalog`). */
  CATALOG: DurableObjectNamespace<CatalogIndex>;
  /**
   * The public token endpoint (`https://auth.example.com/token`). Set: Docker token auth — every request needs a
   * bearer token from the auth worker, verified here with its published keys (never a call per request).
   */
  AUTH_REALM?: string;
  /** The service name tokens are issued for (their audience) and their issuer; must match the auth worker. */
  AUTH_SERVICE?: string;
  AUTH_ISSUER?: string;
  /**
   * Longest token lifetime (`exp - iat`, seconds) the registry accepts, however well signed (default 3600):
   * a token minted to live longer is refused with the usual 401 challenge.
   */
  AUTH_MAX_TOKEN_LIFETIME?: string;
  /** Service binding to the auth worker, used only to fetch its JWKS (cached, refreshed on an unknown kid). */
  AUTH?: Fetcher;
  /**
   * Without AUTH_REALM: "open" lets anyone push and delete — only for local development, set by `pnpm start`.
   * Anything else (the default) accepts reads only until token auth is configured.
   */
  WRITE_ACCESS?: string;
  /** Counters for Docker-Hub-style pull limits (used only when RATE_LIMIT_ANONYMOUS is set). */
  PULL_COUNTER: DurableObjectNamespace<PullCounter>;
  /** Pulls (manifest GETs) per window and address; unset = no limit. */
  RATE_LIMIT_ANONYMOUS?: string;
  RATE_LIMIT_WINDOW?: string;
  /** "on": answer every request with `X-Storage-Ops` (R2 operations and bytes it cost); for benchmarks. */
  STORAGE_METRICS?: string;
}

function namespaces(env: Env) {
  return { repositories: env.REPOSITORY_INDEX, catalog: env.CATALOG };
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

/** Wiring only: bindings → stores → the /v2 app. Built once per isolate. */
function appFor(env: Env): RegistryApp {
  if (cached?.env !== env) {
    cached = { env, app: createRegistryApp({ stores: createStores(env.REGISTRY_BUCKET, namespaces(env)), authorize: authorizeFor(env) }) };
  }
  return cached.app;
}

/** The same app over a bucket that counts this one request's storage work. */
async function meteredFetch(request: Request, env: Env, around: readonly RouteMiddleware[]): Promise<Response> {
  const ops = newStorageOps();
  const app = createRegistryApp({ stores: createMeteredStores(env.REGISTRY_BUCKET, namespaces(env), ops), authorize: authorizeFor(env) });
  const response = await app.fetch(request, undefined, around);
  response.headers.set("X-Storage-Ops", formatStorageOps(ops));
  return response;
}

/** The mirror's pull limits, switched on for this registry's pulls by RATE_LIMIT_ANONYMOUS. */
function pullLimits(env: Env): RouteMiddleware[] {
  if (!env.RATE_LIMIT_ANONYMOUS) return [];
  const limit = Number(env.RATE_LIMIT_ANONYMOUS);
  const windowSec = Number(env.RATE_LIMIT_WINDOW ?? 21600);
  return [pullLimit({ counters: env.PULL_COUNTER, anonymousLimit: limit, accountLimit: limit, windowSec })];
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const around = pullLimits(env);
    return env.STORAGE_METRICS === "on" ? meteredFetch(request, env, around) : appFor(env).fetch(request, undefined, around);
  },
} satisfies ExportedHandler<Env>;
