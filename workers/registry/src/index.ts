import { createRegistryApp, openAuthorize, readOnlyAuthorize, type RegistryApp } from "@registry/api";
import { createR2Stores } from "@registry/storage";

/** Bindings of the registry worker (wrangler.toml at the repository root). */
export interface Env {
  /** Blobs, manifests, tags, uploads: the strongly consistent source of truth (layout: packages/storage/STORAGE.md). */
  REGISTRY_BUCKET: R2Bucket;
  /**
   * "open" lets anyone push and delete — only for local development, set by `pnpm start`.
   * Anything else (the default) accepts reads only until token auth is configured.
   */
  WRITE_ACCESS?: string;
}

let cached: { env: Env; app: RegistryApp } | undefined;

/** Wiring only: bindings → stores → the /v2 app. Built once per isolate. */
function appFor(env: Env): RegistryApp {
  if (cached?.env !== env) {
    const app = createRegistryApp({
      stores: createR2Stores(env.REGISTRY_BUCKET),
      authorize: env.WRITE_ACCESS === "open" ? openAuthorize : readOnlyAuthorize,
    });
    cached = { env, app };
  }
  return cached.app;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return appFor(env).fetch(request);
  },
} satisfies ExportedHandler<Env>;
