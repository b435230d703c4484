import { isDigest, isRepositoryName, isTagPattern } from "@registry/core";
import type { ManifestReader, ReplicationStore } from "@registry/storage";
import type { AdminDeps } from "./admin";
import { error, json, queryInt, readObject } from "./admin-http";
import type { MessageSender } from "./replication/events";
import { enqueueRules, messageOf, splitReference } from "./replication/enqueue";
import { replicationRuleProblem, ruleCovers, ruleInput } from "./replication/rules";

/**
 * The admin API of replication (issue 11 §1): rules, runs by hand and the execution history.
 *
 *   GET    /admin/replication             → 200 {"rules": [{id, repository, tags, referrers, deletions, target: {url, credentials}, targetRepository, created}]}
 *   POST   /admin/replication             {"repository", "target": {"url", "credentials"?}, "tags"?, "referrers"?, "deletions"?, "targetRepository"?}
 *                                         → 201 the rule
 *   DELETE /admin/replication/<id>        → 204, or 404
 *   POST   /admin/replication/run         {"rule", "reference"?: "repo:tag" | "repo@digest"} → 202 {"queued", "truncated"}, 404 no rule
 *   GET    /admin/replication/history?n=50 → 200 {"executions": [...]} (newest first; n 1..1000)
 *
 * Without the REPLICATION binding every route answers 503; without the queue, `run` does.
 */
export interface ReplicationAdminDeps {
  store: ReplicationStore;
  /** The replication queue's producer; undefined = runs cannot be queued. */
  queue?: MessageSender | undefined;
  /** The manifests to list repositories and tags from (runs of whole rules). */
  manifests: ManifestReader;
}

const RULE_FIELDS = ["repository", "tags", "referrers", "deletions", "target", "targetRepository"];

function configured(deps: AdminDeps): ReplicationAdminDeps | Response {
  return deps.replication ?? error(503, "replication is not configured (no REPLICATION binding)");
}

export async function listReplicationRules(_request: Request, deps: AdminDeps): Promise<Response> {
  const r = configured(deps);
  return r instanceof Response ? r : json(200, { rules: await r.store.rules() });
}

export async function addReplicationRule(request: Request, deps: AdminDeps): Promise<Response> {
  const r = configured(deps);
  return r instanceof Response ? r : addRule(request, r);
}

export async function removeReplicationRule(_request: Request, deps: AdminDeps, id: string): Promise<Response> {
  const r = configured(deps);
  if (r instanceof Response) return r;
  return (await r.store.removeRule(id)) ? new Response(null, { status: 204 }) : error(404, `no replication rule ${id}`);
}

export async function runReplication(request: Request, deps: AdminDeps): Promise<Response> {
  const r = configured(deps);
  return r instanceof Response ? r : run(request, r);
}

export async function replicationHistory(request: Request, deps: AdminDeps): Promise<Response> {
  const r = configured(deps);
  return r instanceof Response ? r : history(request, r);
}

async function addRule(request: Request, { store }: ReplicationAdminDeps): Promise<Response> {
  const body = await readObject(request, RULE_FIELDS);
  if (typeof body === "string") return error(400, body);
  const problem = replicationRuleProblem(body);
  if (problem) return error(400, problem);
  return json(201, await store.addRule(ruleInput(body)));
}

async function run(request: Request, { store, queue, manifests }: ReplicationAdminDeps): Promise<Response> {
  const body = await readObject(request, ["rule", "reference"]);
  if (typeof body === "string") return error(400, body);
  if (typeof body.rule !== "string" || body.rule === "") return error(400, "rule must be a rule id");
  if (body.reference !== undefined && typeof body.reference !== "string") return error(400, 'reference must be "repo:tag" or "repo@sha256:…"');
  const rule = await store.rule(body.rule);
  if (!rule) return error(404, `no replication rule ${body.rule}`);
  if (!queue) return error(503, "replication is not configured (no REPLICATION_QUEUE binding)");
  if (body.reference === undefined) return json(202, await enqueueRules([rule], manifests, queue, "manual"));
  const ref = splitReference(body.reference);
  if (!ref || !isRepositoryName(ref.repository) || !(isDigest(ref.reference) || isTagPattern(ref.reference)) || /[*?]/.test(ref.reference)) {
    return error(400, 'reference must be "repo:tag" or "repo@sha256:…"');
  }
  if (!ruleCovers(rule, ref.repository)) return error(400, `rule ${rule.id} does not cover ${ref.repository} (it covers ${rule.repository})`);
  await queue.sendBatch([{ body: messageOf(rule, ref.repository, ref.reference, "manual"), contentType: "json" }]);
  return json(202, { queued: 1, truncated: false });
}

async function history(request: Request, { store }: ReplicationAdminDeps): Promise<Response> {
  const n = queryInt(new URL(request.url), "n", 50, 1, 1000);
  if (typeof n === "string") return error(400, n);
  return json(200, { executions: await store.history(n) });
}
