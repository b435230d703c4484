import { createRegistryApp, openAuthorize, readOnlyAuthorize, type Authorize, type RegistryApp } from "@registry/api";
import { createR2Stores, formatStorageOps, meterBucket, newStorageOps } from "@registry/storage";

/** Bindings of the registry worker (wrangler.toml at the repository root). */
export interface Env {
  /** Blobs, manifests, tags, uploads: the strongly consistent source of truth (layout: packages/storage/STORAGE.md). */
  REGISTRY_BUCKET: R2Bucket;
  /**
   * "open" lets anyone push and delete — only for local development, set by `pnpm start`.
   * Anything else (the default) accepts reads only until token auth is configured.
   */
  WRITE_ACCESS?: string;
  /** "on": answer every request with `X-Storage-Ops` (R2 operations and bytes it cost); for benchmarks. */
  STORAGE_METRICS?: string;
}

let cached: { env: Env; app: RegistryApp } | undefined;

function authorizeFor(env: Env): Authorize {
  return env.WRITE_ACCESS === "open" ? openAuthorize : readOnlyAuthorize;
}

/** Wiring only: bindings → stores → the /v2 app. Built once per isolate. */
function appFor(env: Env): RegistryApp {
  if (cached?.env !== env) {
    cached = { env, app: createRegistryApp({ stores: createR2Stores(env.REGISTRY_BUCKET), authorize: authorizeFor(env) }) };
  }
  return cached.app;
}

/** The same app over a bucket that counts this one request's storage work. */
async function meteredFetch(request: Request, env: Env): Promise<Response> {
  const ops = newStorageOps();
  const app = createRegistryApp({ stores: createR2Stores(meterBucket(env.REGISTRY_BUCKET, ops)), authorize: authorizeFor(env) });
  const response = await app.fetch(request);
  response.headers.set("X-Storage-Ops", formatStorageOps(ops));
  return response;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return env.STORAGE_METRICS === "on" ? meteredFetch(request, env) : appFor(env).fetch(request);
  },
} satisfies ExportedHandler<Env>;
