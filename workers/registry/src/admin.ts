import { equalSecrets, isRepositoryPattern, isTagPattern } from "@registry/core";
import type { Indexes, LifecycleJobs, PolicyStore } from "@registry/storage";
import { error, json } from "./admin-http";
import {
  addRetentionRule,
  getRun,
  listItems,
  listRetentionRules,
  listRuns,
  removeRetentionRule,
  startGc,
  startRetention,
} from "./admin-lifecycle";
import { POLICY_ROUTES } from "./admin-policy";
import {
  addReplicationRule,
  listReplicationRules,
  removeReplicationRule,
  replicationHistory,
  runReplication,
  type ReplicationAdminDeps,
} from "./admin-replication";
import { STATS_ROUTES } from "./admin-stats";

/**
 * The registry's admin API (beside /v2, on the same host): what `pnpm admin` manages. Every call needs
 * `Authorization: Bearer <ADMIN_TOKEN>` (a secret; unset = the admin API is closed); answers are JSON, errors
 * `{"error": "…"}` with 400/401/404/409 (503 for the run routes when no job runner is wired).
 *
 *   GET    /admin/immutability        → 200 {"rules": [{id, repository, tag, created}]}
 *   POST   /admin/immutability        {"repository": "<pattern>", "tag": "<glob>"} → 201 the rule
 *   DELETE /admin/immutability/<id>   → 204, or 404
 *
 * Garbage collection and retention (/admin/gc…, /admin/retention…): admin-lifecycle.ts. Signature policies
 * (/admin/policies…): admin-policy.ts.
 * Replication (/admin/replication…): admin-replication.ts. Pull statistics (/admin/stats…): admin-stats.ts.
 */
export interface AdminDeps {
  policy: PolicyStore;
  /** The lifecycle job runner; without it the GC and retention run routes answer 503. */
  jobs?: LifecycleJobs | undefined;
  /** Replication's rules, queue and history; without it the replication routes answer 503. */
  replication?: ReplicationAdminDeps | undefined;
  /** The repository indexes, for pull statistics (admin-stats.ts); without them the stats routes answer 503. */
  indexes?: Indexes | undefined;
}

export type Handler = (request: Request, deps: AdminDeps, id: string) => Promise<Response>;

const ID = "([\\w-]{1,64})";

/** Every admin route: method, path, handler (the path's capture, if any, is passed as `id`). */
const ROUTES: [string, RegExp, Handler][] = [
  ["GET", /^\/admin\/immutability$/, async (_, { policy }) => json(200, { rules: await policy.immutableRules() })],
  ["POST", /^\/admin\/immutability$/, addImmutableRule],
  ["DELETE", new RegExp(`^/admin/immutability/${ID}$`), removeImmutableRule],
  ["POST", /^\/admin\/gc$/, startGc],
  ["GET", /^\/admin\/gc\/runs$/, listRuns],
  ["GET", new RegExp(`^/admin/gc/runs/${ID}$`), getRun],
  ["GET", new RegExp(`^/admin/gc/runs/${ID}/items$`), listItems],
  ["GET", /^\/admin\/retention$/, listRetentionRules],
  ["POST", /^\/admin\/retention$/, addRetentionRule],
  ["POST", /^\/admin\/retention\/run$/, startRetention],
  ["DELETE", new RegExp(`^/admin/retention/${ID}$`), removeRetentionRule],
  ...POLICY_ROUTES,
  ["GET", /^\/admin\/replication$/, listReplicationRules],
  ["POST", /^\/admin\/replication$/, addReplicationRule],
  ["POST", /^\/admin\/replication\/run$/, runReplication],
  ["GET", /^\/admin\/replication\/history$/, replicationHistory],
  ["DELETE", new RegExp(`^/admin/replication/${ID}$`), removeReplicationRule],
  ...STATS_ROUTES,
];

export async function adminFetch(request: Request, adminToken: string | undefined, deps: AdminDeps): Promise<Response> {
  const refused = await checkToken(request, adminToken);
  if (refused) return refused;
  const path = new URL(request.url).pathname;
  for (const [method, pattern, handler] of ROUTES) {
    const match = request.method === method ? pattern.exec(path) : null;
    if (match) return handler(request, deps, match[1] ?? "");
  }
  return error(404, `no admin route for ${request.method} ${path}`);
}

async function addImmutableRule(request: Request, { policy }: AdminDeps): Promise<Response> {
  const body = (await request.json().catch(() => null)) as { repository?: unknown; tag?: unknown } | null;
  const repository = body?.repository;
  const tag = body?.tag;
  if (typeof repository !== "string" || !isRepositoryPattern(repository)) {
    return error(400, 'repository must be "*", "org/*" or a repository name');
  }
  if (typeof tag !== "string" || !isTagPattern(tag)) return error(400, "tag must be a tag or a glob of tag characters, * and ?");
  return json(201, await policy.addImmutableRule(repository, tag));
}

async function removeImmutableRule(_request: Request, { policy }: AdminDeps, id: string): Promise<Response> {
  return (await policy.removeImmutableRule(id)) ? new Response(null, { status: 204 }) : error(404, `no rule ${id}`);
}

/** 401 unless the request carries the admin token (compared in constant time, through SHA-256). */
async function checkToken(request: Request, expected: string | undefined): Promise<Response | undefined> {
  if (!expected) return error(401, "the admin API is closed: set the ADMIN_TOKEN secret");
  const header = request.headers.get("Authorization") ?? "";
  const given = /^[ \t]*bearer[ \t]+(\S{1,4096})[ \t]*$/i.exec(header)?.[1];
  if (!given) return error(401, "admin token required: Authorization: Bearer <ADMIN_TOKEN>");
  return (await equalSecrets(given, expected)) ? undefined : error(401, "invalid admin token");
}
