// 14. Replication (issue 11 §3): throughput of replicating an image with a BENCH_BIG_MIB layer from our registry to
// the replica of `pnpm start` (the ready-made rule `replicated/*`, through the local queue), beside a plain skopeo
// copy between the same two registries and a skopeo copy into distribution; then the requests and storage
// operations of one replicated push, counted on a second, metrics-on system through counting relays.
import path from "node:path";

import { anomaly, BIG_LABEL, CFG, children, NA, note, say, section, TMP } from "../lib/context.mjs";
import { imageLayout } from "../lib/files.mjs";
import { fmtInt, fmtMiB, fmtRate, fmtRatio, fmtS, heading, ratio, table } from "../lib/format.mjs";
import { sampleRss, stopChild } from "../lib/proc.mjs";
import { executionMs, mustCopy, REPLICATED_REPO, REPLICATED_TAG, startWithReplica, waitForReplication } from "../lib/replication-run.mjs";
import { measureOps, printOps } from "../lib/replication-ops.mjs";
import { startDistribution } from "../lib/systems.mjs";

const creds = (sys) => `${sys.robot.name}:${sys.robot.secret}`;

/** Throughput: push, replication, skopeo copy to the replica, skopeo copy to distribution (the peer). */
async function throughput(env, img) {
  const sys = await startWithReplica("replication");
  children.oursReplication = sys.cp;
  const rss = sampleRss(sys.cp.pid, 200);
  const res = { image: img, replica: sys.replica, rule: sys.rule.id };
  try {
    const ref = `${REPLICATED_REPO}:${REPLICATED_TAG}`;
    res.pushMs = await mustCopy("push to the primary", `oci:${img.dir}:t`, `docker://${sys.host}/${ref}`, creds(sys));
    const pushEnd = Date.now();
    res.rssPush = rss.mark();
    const w = await waitForReplication(sys, REPLICATED_REPO, REPLICATED_TAG, { digest: img.manifestDigest, replica: sys.replica });
    res.rssReplication = rss.mark();
    res.execution = w.execution;
    res.executions = w.executions.length;
    res.replicationMs = executionMs(w.execution);
    res.pushEndToTagMs = w.tagSeenAt - pushEnd;
    res.queuedToRunningMs = w.runningSeenAt == null ? null : w.runningSeenAt - Date.parse(w.execution.started);
    res.pushEndToQueuedMs = Date.parse(w.execution.started) - pushEnd; // negative: the manifest PUT queued it before skopeo exited
    // the plain copy between the two instances, into a fresh repository of the replica (no blob to skip or mount)
    res.copyReplicaMs = await mustCopy("skopeo copy primary -> replica", `docker://${sys.host}/${ref}`, `docker://${sys.replicaHost}/bench/copy:1`, creds(sys));
    res.rssCopyReplica = rss.mark();
    const dist = env.dist ?? (await startDistribution({ label: "distribution-replication", root: path.join(TMP, "distribution-replication") }));
    if (!env.dist) children.distReplication = dist.cp;
    res.copyDistMs = await mustCopy("skopeo copy primary -> distribution", `docker://${sys.host}/${ref}`, `docker://${dist.host}/bench/copy:1`, null);
    res.rssCopyDist = rss.mark();
    if (!env.dist) {
      await stopChild(dist.cp);
      children.distReplication = null;
    }
  } finally {
    rss.stop();
    await stopChild(sys.cp);
    children.oursReplication = null;
  }
  const blobBytes = img.totalSize; // config + layer: what each copy moves (the manifest is a few hundred bytes more)
  const rate = (ms, bytes = blobBytes) => (ms > 0 ? bytes / (ms / 1000) : null);
  res.blobBytes = blobBytes;
  res.pushRate = rate(res.pushMs);
  res.replicationRate = rate(res.replicationMs, res.execution.bytes);
  res.pushEndToTagRate = rate(res.pushEndToTagMs);
  res.copyReplicaRate = rate(res.copyReplicaMs);
  res.copyDistRate = rate(res.copyDistMs);
  if (res.execution.bytes !== blobBytes) anomaly(`replication: the execution reports ${fmtInt(res.execution.bytes)} bytes copied, the image's blobs are ${fmtInt(blobBytes)}`);
  if (res.executions !== 1) anomaly(`replication: ${res.executions} executions of ${REPLICATED_REPO}:${REPLICATED_TAG} for one push (expected 1)`);
  if (res.execution.attempts !== 1) note(`replication: the execution took ${res.execution.attempts} attempts`);
  return res;
}

async function replication(env) {
  const t = performance.now();
  const img = await imageLayout(path.join(TMP, "replication-layout"), [CFG.bigSize], "t");
  img.prepMs = performance.now() - t;
  const res = await throughput(env, img);
  res.ops = await measureOps(img);
  return res;
}

export async function replicationSection(env) {
  say(
    heading(
      `14. replication of an image with a ${BIG_LABEL} layer: primary -> replica (pnpm start's, rule replicated/*)`,
      `ours with token auth and its replica; MB/s = the image's blob bytes (config + layer) / wall time;
replication = the execution's started (queued by the manifest PUT) .. ended, from /admin/replication/history;
beside it: skopeo copy docker://primary/... -> docker://replica/bench/copy:1 (fresh repository) and -> distribution`,
    ),
  );
  const s = await section("replication", () => replication(env), () => children.oursReplication?.tail ?? children.oursReplicationOps?.tail);
  if (!s) return null;
  const copy = s.copyReplicaRate;
  const peak = (m) => (m ? fmtMiB(m.peak) : NA);
  say(
    table([
      ["workload", "wall", "MB/s", "/ skopeo copy -> replica", "peak RSS ours"],
      [`skopeo push -> primary ${REPLICATED_REPO}:${REPLICATED_TAG}`, fmtS(s.pushMs), fmtRate(s.pushRate), fmtRatio(ratio(s.pushRate, copy)), peak(s.rssPush)],
      ["replication -> replica (execution started..ended)", fmtS(s.replicationMs), fmtRate(s.replicationRate), fmtRatio(ratio(s.replicationRate, copy)), peak(s.rssReplication)],
      ["  push's end -> tag on the replica (HEAD polled)", fmtS(s.pushEndToTagMs), fmtRate(s.pushEndToTagRate), fmtRatio(ratio(s.pushEndToTagRate, copy)), ""],
      ["skopeo copy primary -> replica bench/copy:1", fmtS(s.copyReplicaMs), fmtRate(copy), "1.00", peak(s.rssCopyReplica)],
      ["skopeo copy primary -> distribution (peer)", fmtS(s.copyDistMs), fmtRate(s.copyDistRate), fmtRatio(ratio(s.copyDistRate, copy)), peak(s.rssCopyDist)],
    ]),
  );
  const e = s.execution;
  say(
    `  execution ${e.id.slice(0, 8)}: ${e.outcome}, ${e.attempts} attempt(s), ${fmtInt(e.bytes)} bytes, trigger ${e.trigger}; queued ${fmtS(-s.pushEndToQueuedMs)} before skopeo exited;` +
      ` first seen running ${s.queuedToRunningMs == null ? "– (never polled while running)" : `${fmtS(s.queuedToRunningMs)} after it was queued`} (the local queue's batch timeout is 1 s)`,
  );
  say(`  RSS ours (node + workerd, primary and replica in one workerd): idle before the push ${fmtMiB(s.rssPush?.first)}; peak: ${["push", "replication", "copy to replica", "copy to distribution"].map((k, i) => `${k} ${peak([s.rssPush, s.rssReplication, s.rssCopyReplica, s.rssCopyDist][i])}`).join(", ")}`);
  printOps(s.ops, s.image);
  const o = s.ops;
  const segments = o ? o.replicaLog.filter((x) => x.kind === "upload PATCH").length : 0;
  for (const [key, x] of Object.entries(o?.layerGet ?? {})) {
    if (!key.startsWith("replica") || x.error || segments < 2) continue;
    if (x.classB < segments || x.read < s.image.layers[0].size)
      note(
        `replication: X-Storage-Ops of a GET of the replicated layer (${key}, ${segments} segments) says class B ${x.classB}, R2 read ${fmtInt(x.read)} B: a blob read from several segments is metered when the answer starts, before its later segments are read (packages/storage blob-record.ts readBlob)`,
      );
  }
  return s;
}

export function replicationSummary(s) {
  const rows = [
    [`replication ${BIG_LABEL} layer -> replica (MB/s)`, `${fmtRate(s.replicationRate)} (copy ${fmtRate(s.copyReplicaRate)})`, NA, ""],
    [`skopeo copy ${BIG_LABEL} layer from the primary (MB/s)`, `${fmtRate(s.copyReplicaRate)} -> replica`, `${fmtRate(s.copyDistRate)}`, fmtRatio(ratio(s.copyReplicaRate, s.copyDistRate))],
  ];
  const r = s.ops?.replica?.total;
  if (r) rows.push(["replicated push: replica requests, R2 A / B", `${r.requests} req, A ${r.ops?.classA ?? "–"}, B ${r.ops?.classB ?? "–"}`, NA, ""]);
  return rows;
}
