import { serviceVerifier, type ServiceVerifier } from "@registry/token";
import { createStores, DoPolicyStore, Indexes } from "@registry/storage";
import type { Env } from "../index";
import { uiApi } from "./api";
import { openVisitor, tokenVisitor } from "./visitor";

let verifier: { env: Env; verifier: ServiceVerifier | null } | undefined;

/**
 * The web page's API (/ui/api/, ui/api.ts) over this worker's bindings: the page itself is static assets
 * (workers/registry/web, `[assets]` in wrangler.toml), served before the worker runs. With token auth (AUTH_REALM
 * set) each request is checked as its visitor (ui/visitor.ts); without it reads are open, as on /v2/.
 */
export function uiFetch(request: Request, env: Env): Promise<Response> {
  if (verifier?.env !== env) verifier = { env, verifier: env.AUTH_REALM ? serviceVerifier(env) : null };
  const namespaces = { repositories: env.REPOSITORY_INDEX, catalog: env.CATALOG, blobs: env.BLOB_INDEX };
  const v = verifier.verifier;
  return uiApi(request, {
    stores: createStores(env.REGISTRY_BUCKET, namespaces),
    policy: new DoPolicyStore(env.POLICY),
    indexes: new Indexes(namespaces),
    visitor: v ? tokenVisitor(request, env.AUTH, v) : openVisitor,
    ...(v ? { auth: { service: env.AUTH, name: v.service } } : {}),
  });
}
