// Section 14's second part: the requests and storage operations of one replicated push, on a fresh metrics-on
// system (STORAGE_METRICS=on, primary and replica) with two counting relays (lib/replication-proxy.mjs): skopeo
// pushes through one in front of the primary, and the ready-made rule is replaced by the same rule whose target is
// the other relay, in front of the replica. Every request either side receives is counted with its X-Storage-Ops.
// The queue consumer's own reads of the primary's stores are not metered by the build (only fetch() is): they are
// derived from the engine's calls (packages/replication) and the requests the replica received.
import { createHash } from "node:crypto";
import http from "node:http";

import { fetchToken } from "./auth.mjs";
import { anomaly, children, say } from "./context.mjs";
import { fmtInt, fmtS, table } from "./format.mjs";
import { addOps, parseStorageOps } from "./http.mjs";
import { stopChild } from "./proc.mjs";
import { startCountingProxy, summarize } from "./replication-proxy.mjs";
import { mustCopy, REPLICATED_REPO, REPLICATED_TAG, startWithReplica, waitForReplication, executionMs } from "./replication-run.mjs";

/**
 * The consumer's reads of the primary, from what the engine does for one image copied by tag (replicate.ts,
 * copy-blob.ts, workers/registry/src/replication/consumer.ts + source.ts): the rule (1 ReplicationLog call), the
 * execution recorded twice (2), the manifest by tag (1 repository-index call; + 1 R2 GET when the manifest's bytes
 * are kept in R2), per copied blob its record (1 index call) and one R2 GET per body the replica received (a
 * monolithic PUT or a PATCH: `source.read(range)`, one GET per segment the range spans; a pushed blob is one
 * segment), the subject's referrers (1) and the repository's tags (1, for cosign tags).
 */
export function sourceReads(replicaLog, manifestInR2) {
  const bodies = replicaLog.filter((e) => (e.method === "PATCH" || (e.method === "PUT" && /\/blobs\/uploads\//.test(e.path))) && e.bytesIn > 0 && e.status < 300);
  const blobs = replicaLog.filter((e) => e.method === "PUT" && /\/blobs\/uploads\//.test(e.path) && e.status === 201).length;
  return {
    replicationLogCalls: 3,
    indexCalls: 1 + blobs + 1 + 1,
    classB: bodies.length + (manifestInR2 ? 1 : 0),
    bytesRead: bodies.reduce((a, e) => a + e.bytesIn, 0),
    blobs,
    bodies: bodies.length,
    manifestInR2,
  };
}

/** GET of a URL, the body hashed and dropped: { status, headers, size, digest, text (a short body) }. */
function getHashed(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const hash = createHash("sha256");
      let size = 0;
      let text = "";
      res.on("data", (d) => {
        size += d.length;
        hash.update(d);
        if (text.length < 300) text += d.toString("utf8", 0, Math.min(d.length, 300));
      });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, size, digest: `sha256:${hash.digest("hex")}`, text: text.slice(0, 300) }));
      res.on("error", reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on("error", reject);
  });
}

/**
 * A whole GET of a blob as a client makes it (anonymous pull token; a 307 to the signed URL followed; `extra`
 * headers on both), its bytes' digest checked: the X-Storage-Ops of both answers summed, and X-Read-Path.
 */
export async function blobGetOps(base, repository, digest, size, extra = {}) {
  const auth = { Authorization: `Bearer ${await fetchToken(base, repository)}` };
  const what = `GET blob ${digest.slice(0, 19)} of ${repository} on ${base}${extra["Cache-Control"] ? " (no-cache)" : ""}`;
  let res = await getHashed(`${base}/v2/${repository}/blobs/${digest}`, { ...auth, ...extra });
  let ops = parseStorageOps(res.headers["x-storage-ops"]);
  const redirected = res.status === 307;
  if (redirected) {
    res = await getHashed(new URL(res.headers.location, base).toString(), extra);
    ops = addOps(ops, parseStorageOps(res.headers["x-storage-ops"]));
  }
  if (res.status !== 200) throw new Error(`${what}${redirected ? ", the signed URL it redirected to" : ""}: HTTP ${res.status} ${res.text}`);
  if (res.size !== size || res.digest !== digest) throw new Error(`${what}: ${res.size} bytes of digest ${res.digest.slice(0, 19)}, expected ${size} of ${digest.slice(0, 19)}`);
  return { ...ops, redirected, readPath: res.headers["x-read-path"] ?? null };
}

/**
 * Client GETs of the replicated layer after the replication: the primary's (edge path), the replica's (edge path),
 * the replica's origin path (`Cache-Control: no-cache`: its own index, no cache). The primary and the replica
 * run in one workerd here; when the replica's edge GET fails and its origin GET serves the bytes, the replica's
 * copy is whole and its edge path read a record that is not its own.
 */
async function layerGets(sys, layer) {
  const out = {};
  const cases = [
    ["primary", sys.base, {}],
    ["replica", sys.replica, {}],
    ["replicaOrigin", sys.replica, { "Cache-Control": "no-cache" }],
  ];
  for (const [key, base, extra] of cases) {
    try {
      out[key] = await blobGetOps(base, REPLICATED_REPO, layer.digest, layer.size, extra);
    } catch (e) {
      out[key] = { error: e.message.split("\n")[0], log: sys.cp.tail.slice(-2000) };
    }
  }
  if (out.replica.error && !out.replicaOrigin.error)
    anomaly(
      `replication: the replicated layer fails on the replica's edge path after the primary served it (${out.replica.error}), while its origin path (no-cache) serves it whole: the replica's edge read used a blob record that is not its own — the Cache API (caches.default) is shared by the primary and the replica in one workerd and the edge index's ColoCache keys (packages/storage/src/edge-stores.ts) name no registry`,
    );
  else for (const [key, x] of Object.entries(out)) if (x.error) anomaly(`replication: GET of the replicated layer, ${key}: ${x.error}`);
  return out;
}

export async function measureOps(img) {
  const sys = await startWithReplica("replication-ops", { metrics: true });
  children.oursReplicationOps = sys.cp;
  const primary = await startCountingProxy(sys.base);
  const replica = await startCountingProxy(sys.replica);
  try {
    // the ready-made rule, its target now the relay in front of the replica (added before any push: no isolate has
    // read the rules yet, so the push trigger's 5 s rule cache cannot hold the old one)
    await sys.admin.removeRule(sys.rule.id);
    const rule = await sys.admin.addRule({ repository: "replicated/*", target: { url: replica.url, credentials: sys.rule.target.credentials } });
    const pushMs = await mustCopy("push to the primary (metrics on, via the relay)", `oci:${img.dir}:t`, `docker://${primary.host}/${REPLICATED_REPO}:${REPLICATED_TAG}`, `${sys.robot.name}:${sys.robot.secret}`);
    const w = await waitForReplication(sys, REPLICATED_REPO, REPLICATED_TAG, { digest: img.manifestDigest, replica: sys.replica });
    const all = await sys.admin.history(100);
    const layerGet = await layerGets(sys, img.layers[0]);
    const push = summarize(primary.log);
    const onReplica = summarize(replica.log);
    const manifestPut = push.groups.find((g) => g.kind === "manifest PUT by tag");
    const manifestInR2 = (manifestPut?.ops?.written ?? 0) > 0;
    return {
      rule: rule.id,
      pushMs,
      replicationMs: executionMs(w.execution),
      execution: w.execution,
      executions: all.length,
      attempts: all.reduce((a, e) => a + e.attempts, 0),
      push,
      replica: onReplica,
      replicaLog: replica.log.map(({ kind, status, bytesIn, path }) => ({ kind, status, bytesIn, path: path.replace(/\/uploads\/[^?]+/, "/uploads/<id>").slice(0, 120) })),
      source: sourceReads(replica.log, manifestInR2),
      layerGet,
    };
  } finally {
    await primary.close();
    await replica.close();
    await stopChild(sys.cp);
    children.oursReplicationOps = null;
  }
}

const c = (v) => (v == null ? "–" : fmtInt(v));
const statuses = (g) =>
  Object.entries(g.statuses)
    .map(([k, n]) => (n > 1 ? `${n}x${k}` : k))
    .join(" ");
const opsCells = (o) => (o ? [c(o.doCalls), c(o.kvRead), c(o.kvWrite), c(o.classA), c(o.classB), c(o.deletes), c(o.written), c(o.read)] : ["–", "–", "–", "–", "–", "–", "–", "–"]);

export function printOps(o, img) {
  if (!o) return;
  say(
    `\n  one replicated push, counted (fresh metrics-on system, STORAGE_METRICS=on on the primary and the replica; skopeo -> relay -> primary,` +
      `\n  rule ${o.rule} replicated/* -> relay -> replica): X-Storage-Ops of every answer; push ${fmtS(o.pushMs)}, replication ${fmtS(o.replicationMs)} (informative: relays and metrics on)`,
  );
  const head = ["request", "n", "status", "bytes in", "DO", "KV r", "KV w", "class A", "class B", "deletes", "R2 written", "R2 read"];
  const rows = (side, s) => [
    ...s.groups.map((g) => [`${side} ${g.kind}`, fmtInt(g.requests), statuses(g), fmtInt(g.bytesIn), ...opsCells(g.ops)]),
    [`${side} total`, fmtInt(s.total.requests), "", fmtInt(s.total.bytesIn), ...opsCells(s.total.ops)],
  ];
  say(table([head, ...rows("push:", o.push), ...rows("replica:", o.replica)]));
  const src = o.source;
  say(
    `  primary, the queue consumer's reads (not metered by the build; from the engine's calls): ${src.replicationLogCalls} ReplicationLog DO calls (rule, execution recorded twice),` +
      `\n    ${src.indexCalls} repository-index DO calls (manifest, ${src.blobs} blob records, referrers, tags), R2 class B ${src.classB} (${src.bodies} upload bodies${src.manifestInR2 ? " + the manifest, kept in R2" : ""}), R2 read ${fmtInt(src.bytesRead)} B` +
      ` (${(src.bytesRead / img.totalSize).toFixed(3)}x the blobs)`,
  );
  say(
    `  queue: ${o.executions} message(s) / execution(s) in the history for this push (${o.attempts} attempt(s)); the manifest PUT sent them (a Queue send, not a storage op;` +
      ` the push trigger's rule read is 1 ReplicationLog call per isolate per 5 s, not metered)`,
  );
  const patches = o.replicaLog.filter((e) => e.kind === "upload PATCH").length;
  if (patches)
    say(
      `  the ${fmtInt(img.layers[0].size)} B layer went to the replica in ${patches} PATCHes of the engine's 64 MiB chunks: ${patches} R2 objects (segments) there (one per body of known length, segment-writer.ts), 1 on the primary`,
    );
  const g = o.layerGet;
  const getStr = (x) =>
    x.error ? `FAILED (${x.error.slice(0, 160)})` : `ok, path ${x.readPath ?? "–"}, DO ${c(x.doCalls)}, KV r ${c(x.kvRead)}, class B ${c(x.classB)}, R2 read ${fmtInt(x.read)} B${x.redirected ? " (307 + signed GET)" : ""}`;
  say("  client GETs of the layer afterwards (anonymous token, digest checked; X-Storage-Ops of the 307 and the signed GET):");
  say(`    primary ${getStr(g.primary)}\n    replica ${getStr(g.replica)}\n    replica, no-cache ${getStr(g.replicaOrigin)}`);
}
