import type { GcOptions, JobRun } from "@registry/storage";
import { retentionRuleProblem } from "@registry/storage";
import type { AdminDeps } from "./admin";
import { error, json, queryInt, readObject } from "./admin-http";

/**
 * The admin API of the lifecycle jobs (issue 10 §1, §2): garbage collection and retention runs, which a
 * LifecycleJobs runner carries out one at a time, and the retention rules in the policy store.
 *
 *   POST   /admin/gc                     {"dryRun"?, "deleteUntagged"?, "graceSeconds"?, "uploadGraceSeconds"?}
 *                                        → 202 {"run"}, or 409 {"error", "run"} while another run is under way
 *   GET    /admin/gc/runs?n=20           → 200 {"runs": [...]} (GC and retention, newest first; n 1..100)
 *   GET    /admin/gc/runs/<id>           → 200 the run, or 404
 *   GET    /admin/gc/runs/<id>/items?after=0&n=1000 → 200 {"items", "next"} (next: null at the end), or 404
 *   GET    /admin/retention              → 200 {"rules": [{id, repository, keepLast, keepTags, keepDays, created}]}
 *   POST   /admin/retention              {"repository", "keepLast"?, "keepTags"?, "keepDays"?} → 201 the rule
 *   DELETE /admin/retention/<id>         → 204, or 404
 *   POST   /admin/retention/run          {"dryRun"?} → 202 {"run"}, or 409 as for GC
 *
 * Without a runner (`jobs` undefined) the run routes answer 503 (the rules routes work without one).
 */

const GC_DEFAULTS: GcOptions = { dryRun: false, deleteUntagged: false, graceSeconds: 3600, uploadGraceSeconds: 86_400 };

export async function startGc(request: Request, { jobs }: AdminDeps): Promise<Response> {
  if (!jobs) return notConfigured();
  const body = await readObject(request, Object.keys(GC_DEFAULTS));
  if (typeof body === "string") return error(400, body);
  const options = { ...GC_DEFAULTS };
  for (const key of ["dryRun", "deleteUntagged"] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== "boolean") return error(400, `${key} must be true or false`);
    options[key] = value;
  }
  for (const key of ["graceSeconds", "uploadGraceSeconds"] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return error(400, `${key} must be a number of seconds ≥ 0`);
    options[key] = value;
  }
  return started(await jobs.start("gc", options));
}

export async function startRetention(request: Request, { jobs }: AdminDeps): Promise<Response> {
  if (!jobs) return notConfigured();
  const body = await readObject(request, ["dryRun"]);
  if (typeof body === "string") return error(400, body);
  const dryRun = body.dryRun ?? false;
  if (typeof dryRun !== "boolean") return error(400, "dryRun must be true or false");
  return started(await jobs.startRetention({ dryRun }));
}

export async function listRuns(request: Request, { jobs }: AdminDeps): Promise<Response> {
  if (!jobs) return notConfigured();
  const n = queryInt(new URL(request.url), "n", 20, 1, 100);
  if (typeof n === "string") return error(400, n);
  return json(200, { runs: await jobs.runs(n) });
}

export async function getRun(_request: Request, { jobs }: AdminDeps, id: string): Promise<Response> {
  if (!jobs) return notConfigured();
  const run = await jobs.run(id);
  return run ? json(200, run) : noRun(id);
}

export async function listItems(request: Request, { jobs }: AdminDeps, id: string): Promise<Response> {
  if (!jobs) return notConfigured();
  const url = new URL(request.url);
  const after = queryInt(url, "after", 0, 0, Number.MAX_SAFE_INTEGER);
  if (typeof after === "string") return error(400, after);
  const n = queryInt(url, "n", 1000, 1, 1000);
  if (typeof n === "string") return error(400, n);
  if (!(await jobs.run(id))) return noRun(id);
  const { items, next } = await jobs.items(id, after, n);
  return json(200, { items, next });
}

export async function listRetentionRules(_request: Request, { policy }: AdminDeps): Promise<Response> {
  return json(200, { rules: await policy.retentionRules() });
}

export async function addRetentionRule(request: Request, { policy }: AdminDeps): Promise<Response> {
  const body = await readObject(request, ["repository", "keepLast", "keepTags", "keepDays"]);
  if (typeof body === "string") return error(400, body);
  const problem = retentionRuleProblem(body);
  if (problem) return error(400, problem);
  const rule = {
    repository: body.repository as string,
    keepLast: (body.keepLast ?? null) as number | null,
    keepTags: (body.keepTags ?? null) as string | null,
    keepDays: (body.keepDays ?? null) as number | null,
  };
  return json(201, await policy.addRetentionRule(rule));
}

export async function removeRetentionRule(_request: Request, { policy }: AdminDeps, id: string): Promise<Response> {
  return (await policy.removeRetentionRule(id)) ? new Response(null, { status: 204 }) : error(404, `no retention rule ${id}`);
}

function started({ run, started }: { run: JobRun; started: boolean }): Response {
  return started ? json(202, { run }) : json(409, { error: `a run is already under way: ${run.id}`, run });
}

function notConfigured(): Response {
  return error(503, "garbage collection is not configured");
}

function noRun(id: string): Response {
  return error(404, `no run ${id}`);
}
