import { equalSecrets, isRepositoryPattern, isTagPattern } from "@registry/core";
import type { PolicyStore } from "@registry/storage";

/**
 * The registry's admin API (beside /v2, on the same host): the rules `pnpm admin` manages. Every call needs
 * `Authorization: Bearer <ADMIN_TOKEN>` (a secret; unset = the admin API is closed); answers are JSON, errors
 * `{"error": "…"}` with 400/401/404.
 *
 *   GET    /admin/immutability        → 200 {"rules": [{id, repository, tag, created}]}
 *   POST   /admin/immutability        {"repository": "<pattern>", "tag": "<glob>"} → 201 the rule
 *   DELETE /admin/immutability/<id>   → 204, or 404
 */
export async function adminFetch(request: Request, adminToken: string | undefined, policy: PolicyStore): Promise<Response> {
  const refused = await checkToken(request, adminToken);
  if (refused) return refused;
  const path = new URL(request.url).pathname;
  if (path === "/admin/immutability" && request.method === "GET") return json(200, { rules: await policy.immutableRules() });
  if (path === "/admin/immutability" && request.method === "POST") return addRule(request, policy);
  const id = /^\/admin\/immutability\/([\w-]{1,64})$/.exec(path)?.[1];
  if (id && request.method === "DELETE") {
    return (await policy.removeImmutableRule(id)) ? new Response(null, { status: 204 }) : error(404, `no rule ${id}`);
  }
  return error(404, `no admin route for ${request.method} ${path}`);
}

async function addRule(request: Request, policy: PolicyStore): Promise<Response> {
  const body = (await request.json().catch(() => null)) as { repository?: unknown; tag?: unknown } | null;
  const repository = body?.repository;
  const tag = body?.tag;
  if (typeof repository !== "string" || !isRepositoryPattern(repository)) {
    return error(400, 'repository must be "*", "org/*" or a repository name');
  }
  if (typeof tag !== "string" || !isTagPattern(tag)) return error(400, "tag must be a tag or a glob of tag characters, * and ?");
  return json(201, await policy.addImmutableRule(repository, tag));
}

/** 401 unless the request carries the admin token (compared in constant time, through SHA-256). */
async function checkToken(request: Request, expected: string | undefined): Promise<Response | undefined> {
  if (!expected) return error(401, "the admin API is closed: set the ADMIN_TOKEN secret");
  const header = request.headers.get("Authorization") ?? "";
  const given = /^[ \t]*bearer[ \t]+(\S{1,4096})[ \t]*$/i.exec(header)?.[1];
  if (!given) return error(401, "admin token required: Authorization: Bearer <ADMIN_TOKEN>");
  return (await equalSecrets(given, expected)) ? undefined : error(401, "invalid admin token");
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
}

function error(status: number, message: string): Response {
  return json(status, { error: message });
}
