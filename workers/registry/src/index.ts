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
import { pullLimit } from "@registry/ratelimit";
import {
  createMeteredStores,
  createStores,
  formatStorageOps,
  newStorageOps,
} from "@registry/storage";

export { CatalogIndex, RepositoryIndex } from "@registry/storage";
export { PullCounter } from "@registry/ratelimit";

/**
 * Bindings of the registry worker, generated from wrangler.toml by `wrangler types` (worker-configuration.d.ts;
 * `pnpm typecheck` fails when it is stale). What each binding is for: the comments in wrangler.toml.
 */
export type Env = RegistryBindings;

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
