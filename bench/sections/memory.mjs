// 6. Push throughput and peak resident memory of a 1 GiB blob: ours (a fresh system per push: monolithic
// POST ?digest=, then chunked PATCHes), a bare R2 put on the same runtime (the floor for memory, the ceiling for
// throughput; targets: push >= 0.9x its throughput, peak memory <= 110 % of its peak), and distribution.
import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { anomaly, byName, CFG, children, MEM_LABEL, NA, say, section, TARGETS, targetMissed } from "../lib/context.mjs";
import { MiB } from "../lib/files.mjs";
import { fmtMiB, fmtRate, fmtRatio, heading, ratio, row } from "../lib/format.mjs";
import { expectStatus, pushBlob, request } from "../lib/http.mjs";
import { pushFileChunked } from "../lib/ops.mjs";
import { run, sampleRss, stopChild, treeRss } from "../lib/proc.mjs";
import { startBareR2, startOurs } from "../lib/systems.mjs";

/** Runs `push` while sampling the resident memory of `pid`'s process tree. */
async function measuredPush(pid, push, size) {
  const idle = treeRss(pid);
  const sampler = sampleRss(pid, 100);
  const t0 = performance.now();
  let error = null;
  let info = null;
  try {
    info = await push();
  } catch (e) {
    error = e.message;
  }
  const ms = performance.now() - t0;
  await sleep(300); // catch a late peak (e.g. the final write)
  const s = sampler.stop();
  return { idleRss: idle, peakRss: s.peak, peakByName: s.peakByName, afterRss: s.last, samples: s.samples, ms, rate: error ? null : size / (ms / 1000), error, ...info };
}

/** A fresh system of ours, one push measured on it, a HEAD to check the blob, then stopped and its state removed. */
async function oursPush(label, mem, push) {
  const sys = await startOurs(label);
  children.oursMem = sys.cp;
  try {
    await sleep(1000);
    const r = await measuredPush(sys.cp.pid, () => push(sys), mem.size);
    if (!r.error) {
      const head = await request(`${sys.base}/v2/bench/mem/blobs/${mem.digest}`, { method: "HEAD" });
      if (head.status !== 200 || Number(head.headers["content-length"]) !== mem.size)
        anomaly(`ours: after the ${MEM_LABEL} push (${label}), HEAD answers ${head.status} length ${head.headers["content-length"]}`);
    } else anomaly(`ours: ${MEM_LABEL} push (${label}) failed: ${r.error}`);
    return r;
  } finally {
    await stopChild(sys.cp);
    children.oursMem = null;
    rmSync(sys.stateDir, { recursive: true, force: true });
  }
}

async function bareR2(mem) {
  const bare = await startBareR2();
  children.bare = bare.cp;
  try {
    await sleep(1000);
    const put = async () => {
      const r = await request(`${bare.base}/`, { method: "PUT", file: mem.file, headers: { "Content-Type": "application/octet-stream" }, timeoutMs: 900_000 });
      expectStatus(r, 200, "bare R2 put");
    };
    const res = await measuredPush(bare.cp.pid, put, mem.size);
    if (res.error) {
      anomaly(`bare R2 put of ${MEM_LABEL} failed: ${res.error}`);
      return res;
    }
    // and read it back through the same runtime (no front, no registry code): the simulator's own GET speed
    const speeds = [];
    for (let i = 0; i < 2; i++) {
      const args = ["-s", "-o", "/dev/null", "--max-time", "120", "-w", "%{speed_download} %{size_download} %{http_code}", `${bare.base}/`];
      const r = await run("curl", args, { timeoutMs: 130_000 });
      const m = /^([\d.]+) (\d+) (\d+)/.exec(r.stdout.trim());
      if (m && Number(m[2]) === mem.size && m[3] === "200") speeds.push(Number(m[1]));
    }
    res.getRate = speeds.length ? Math.max(...speeds) : null;
    if (!speeds.length) anomaly("bare R2 get: no complete download");
    return res;
  } finally {
    await stopChild(bare.cp);
    children.bare = null;
    rmSync(bare.dir, { recursive: true, force: true });
  }
}

async function memory(dist, mem) {
  const res = {};
  res.ours = await oursPush("mem", mem, (sys) => pushBlob(sys.base, "bench/mem", mem.digest, { file: mem.file }, "post", 900_000));
  res.bareR2 = await bareR2(mem);
  if (CFG.memChunkSize > 0)
    res.oursChunked = await oursPush("mem-chunked", mem, (sys) => pushFileChunked(sys.base, "bench/mem", mem.file, mem.size, mem.digest, CFG.memChunkSize));
  res.distribution = await measuredPush(dist.cp.pid, () => pushBlob(dist.base, "bench/mem", mem.digest, { file: mem.file }, dist.pushMode ?? "post-put", 900_000), mem.size);
  if (res.distribution.error) anomaly(`distribution: ${MEM_LABEL} push failed: ${res.distribution.error}`);

  const b = res.bareR2;
  res.targets = {};
  for (const k of ["ours", "oursChunked"]) {
    const o = res[k];
    if (!o || o.error || b.error) continue;
    const t = { throughputOfBareR2: ratio(o.rate, b.rate), peakRssOfBareR2: ratio(o.peakRss, b.peakRss) };
    res.targets[k] = t;
    const what = k === "ours" ? "monolithic" : "chunked";
    if (t.throughputOfBareR2 < TARGETS.pushOfBareR2)
      targetMissed(`ours: ${MEM_LABEL} ${what} push at ${fmtRatio(t.throughputOfBareR2)}x the bare R2 put's throughput (target >= ${TARGETS.pushOfBareR2})`);
    if (t.peakRssOfBareR2 > TARGETS.memOfBareR2)
      targetMissed(`ours: ${MEM_LABEL} ${what} push peak RSS ${fmtMiB(o.peakRss)} = ${Math.round(t.peakRssOfBareR2 * 100)} % of the bare R2 put's (target <= ${Math.round(TARGETS.memOfBareR2 * 100)} %)`);
  }
  if (res.ours.peakRss > 350 * MiB) anomaly(`ours: peak resident memory ${fmtMiB(res.ours.peakRss)} during the ${MEM_LABEL} push — above 350 MiB`);
  return res;
}

const memStr = (m) => (!m ? NA : m.error ? `FAILED (${m.error.slice(0, 60)})` : `peak ${fmtMiB(m.peakRss)} (idle ${fmtMiB(m.idleRss)}) ${fmtRate(m.rate)}`);
const pct = (r) => (r == null ? NA : `${Math.round(r * 100)} %`);

export async function memorySection({ dist, mem }) {
  say(
    heading(
      `6. push throughput and resident memory of a ${MEM_LABEL} blob`,
      `process-tree VmRSS sampled every 100 ms (ours: a fresh scripts/start.mjs child per push = node (front) + workerd;
bare R2: a one-line Miniflare worker doing env.B.put(r.body) in its own process; distribution: the docker-registry process)
push: streamed from a file with Content-Length (ours monolithic: POST ?digest=; ours chunked: POST, PATCHes of
${fmtMiB(CFG.memChunkSize)} with Content-Range, PUT ?digest=; bare R2: PUT; distribution: POST + PUT)
targets vs the bare R2 put (same runtime, same simulator): throughput >= ${TARGETS.pushOfBareR2}x, peak RSS <= ${Math.round(TARGETS.memOfBareR2 * 100)} %`,
    ),
  );
  const s6 = await section("memory", () => memory(dist, mem), () => children.oursMem?.tail);
  if (!s6) return null;
  say(row(`${MEM_LABEL} push: peak RSS, throughput`, memStr(s6.ours), memStr(s6.distribution), ratio(s6.ours.peakRss, s6.distribution.peakRss)));
  if (s6.oursChunked) say(`${`${MEM_LABEL} push, chunked PATCHes`.padEnd(44)}ours ${memStr(s6.oursChunked)}${s6.oursChunked.patches ? ` (${s6.oursChunked.patches} PATCHes)` : ""}`);
  say(`${`${MEM_LABEL} bare R2 put (same runtime)`.padEnd(44)}bare R2 ${memStr(s6.bareR2)}`);
  const tbl = (k, label) => {
    const t = s6.targets[k];
    if (!t) return;
    say(
      `  ${label}: throughput ${fmtRatio(t.throughputOfBareR2)}x the bare R2 put (target >= ${TARGETS.pushOfBareR2}x), ` +
        `peak RSS ${pct(t.peakRssOfBareR2)} of its peak (target <= ${pct(TARGETS.memOfBareR2)})`,
    );
  };
  tbl("ours", "ours monolithic vs bare R2");
  tbl("oursChunked", "ours chunked vs bare R2   ");
  say(`  at the peak: ours ${byName(s6.ours.peakByName)}; bare R2 ${byName(s6.bareR2.peakByName)}`);
  say(`  bare R2 get of the same ${MEM_LABEL} object (curl, no front, no registry code): ${fmtRate(s6.bareR2.getRate)}`);
  return s6;
}

export function memorySummary(s6) {
  const rr = (a, b) => fmtRatio(ratio(a, b));
  const rows = [
    [`${MEM_LABEL} push, peak RSS`, fmtMiB(s6.ours.peakRss), fmtMiB(s6.distribution.peakRss), rr(s6.ours.peakRss, s6.distribution.peakRss)],
    [`${MEM_LABEL} push, throughput`, fmtRate(s6.ours.rate), fmtRate(s6.distribution.rate), rr(s6.ours.rate, s6.distribution.rate)],
    [`${MEM_LABEL} bare R2 put: peak RSS, throughput`, `${fmtMiB(s6.bareR2.peakRss)}, ${fmtRate(s6.bareR2.rate)}`, NA, ""],
    [`${MEM_LABEL} bare R2 get (no front, no registry)`, fmtRate(s6.bareR2.getRate), NA, ""],
  ];
  const t = s6.targets.ours;
  if (t) rows.push([`${MEM_LABEL} push vs bare R2: throughput (>= ${TARGETS.pushOfBareR2}), peak RSS (<= ${TARGETS.memOfBareR2})`, `${fmtRatio(t.throughputOfBareR2)}, ${fmtRatio(t.peakRssOfBareR2)}`, NA, ""]);
  const c = s6.targets.oursChunked;
  if (c) rows.push([`${MEM_LABEL} chunked push vs bare R2: same`, `${fmtRatio(c.throughputOfBareR2)}, ${fmtRatio(c.peakRssOfBareR2)}`, NA, ""]);
  return rows;
}
