// Section 14's helpers: our system with its replica (token auth on, `pnpm start`'s replica and its ready-made rule
// `replicated/*`), its admin API (rules, execution history), skopeo copies and waiting for a replication.
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { fetchToken } from "./auth.mjs";
import { expectStatus, MANIFEST_TYPE, request } from "./http.mjs";
import { run } from "./proc.mjs";
import { startOurs } from "./systems.mjs";

export const REPLICATED_REPO = "replicated/bench";
export const REPLICATED_TAG = "1";

/** The admin API of a registry of ours (the token start.mjs keeps in the state dir). */
export function adminOf(sys) {
  const token = JSON.parse(readFileSync(path.join(sys.stateDir, "auth-secrets.json"), "utf8")).adminToken;
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const call = async (method, p, body, expected) => {
    const res = await request(`${sys.base}${p}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}), timeoutMs: 20_000 });
    expectStatus(res, expected, `${method} ${p}`);
    return res.body.length ? JSON.parse(res.body.toString("utf8")) : null;
  };
  return {
    rules: async () => (await call("GET", "/admin/replication", null, 200)).rules,
    addRule: (rule) => call("POST", "/admin/replication", rule, 201),
    removeRule: (id) => call("DELETE", `/admin/replication/${id}`, null, 204),
    history: async (n = 50) => (await call("GET", `/admin/replication/history?n=${n}`, null, 200)).executions,
  };
}

/**
 * Our system with token auth and the replica on (labels give each its own state dir). Returns the system plus
 * `admin`, `replica` (the replica's base URL, from the ready-made rule) and `rule` (that rule).
 */
export async function startWithReplica(label, { metrics = false } = {}) {
  const sys = await startOurs(label, { auth: true, metrics, env: { REPLICA: "on" } });
  const admin = adminOf(sys);
  const rule = (await admin.rules()).find((r) => r.repository === "replicated/*");
  if (!rule) throw new Error(`our system (${label}): no replication rule for replicated/* — is the replica of pnpm start on?`);
  return { ...sys, admin, rule, replica: rule.target.url, replicaHost: new URL(rule.target.url).host };
}

/** `skopeo copy` with the TLS fallback allowed on both sides; `destCreds` "name:secret". Never throws. */
export function skopeoCopy(src, dest, destCreds) {
  return run("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", ...(destCreds ? ["--dest-creds", destCreds] : []), src, dest], {
    timeoutMs: 300_000,
  });
}

const skopeoError = (r) => (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ").slice(-400);

/** Runs a skopeo copy and throws on failure: returns its wall time (ms). */
export async function mustCopy(what, src, dest, destCreds) {
  const r = await skopeoCopy(src, dest, destCreds);
  if (r.code !== 0) throw new Error(`${what}: skopeo copy failed${r.timedOut ? " (timeout)" : ""}: ${skopeoError(r)}`);
  return r.ms;
}

/**
 * Waits (bounded) until the execution of `repository:reference` (the newest one) has ended, and, when `replica`
 * is given, until the replica answers the tag with `digest` (HEAD with an anonymous pull token, no-cache). Returns
 * { execution, executions (all of that reference), tagSeenAt, runningSeenAt } (times: Date.now() of the bench).
 */
export async function waitForReplication(sys, repository, reference, { digest, replica, timeoutMs = 240_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  const token = replica ? await fetchToken(replica, repository) : null;
  let tagSeenAt = null;
  let runningSeenAt = null;
  let done = null;
  const tagPoll = (async () => {
    if (!replica) return;
    while (Date.now() < deadline && tagSeenAt == null) {
      const r = await request(`${replica}/v2/${repository}/manifests/${reference}`, {
        method: "HEAD",
        headers: { Authorization: `Bearer ${token}`, Accept: MANIFEST_TYPE, "Cache-Control": "no-cache" },
        timeoutMs: 10_000,
      }).catch(() => null);
      if (r?.status === 200 && r.headers["docker-content-digest"] === digest) tagSeenAt = Date.now();
      else await sleep(100);
    }
  })();
  const historyPoll = (async () => {
    while (Date.now() < deadline && !done) {
      const mine = (await sys.admin.history(20).catch(() => [])).filter((e) => e.repository === repository && e.reference === reference);
      const newest = mine[0];
      if (newest?.outcome === "running" && runningSeenAt == null) runningSeenAt = Date.now();
      if (newest && (newest.outcome === "ok" || newest.outcome === "failed")) done = { execution: newest, executions: mine };
      else await sleep(250);
    }
  })();
  await Promise.all([tagPoll, historyPoll]);
  if (!done) throw new Error(`replication of ${repository}:${reference}: no finished execution after ${timeoutMs / 1000} s`);
  if (done.execution.outcome !== "ok") throw new Error(`replication of ${repository}:${reference} failed: ${done.execution.error}`);
  if (replica && tagSeenAt == null) throw new Error(`replication of ${repository}:${reference}: ok in the history, but the replica does not answer the tag with ${digest}`);
  return { ...done, tagSeenAt, runningSeenAt };
}

/** Wall time of an execution (ms): its `started` (when the push queued it) to `ended`. */
export const executionMs = (e) => (e?.ended ? Date.parse(e.ended) - Date.parse(e.started) : null);
