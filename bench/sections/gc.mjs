// 13. Garbage collection over a big registry (issue 10 §5): BENCH_GC_MANIFESTS (10,000) manifests in repositories
// of 20 images, half untagged, >= 2 blobs per manifest, seeded fast through the storage layer (lib/gc-host.mjs: the
// registry's own Durable Objects and R2 bucket written by a seed worker, no HTTP pushes). Then a dry run and a
// real run of the registry's GC (POST /admin/gc, deleteUntagged, no grace), polled to the end: wall time, what it
// deleted, storage operations per deleted item (the run's own `ops`), workerd's peak resident memory. The peer:
// distribution's `garbage-collect --delete-untagged` over the same shape written into its filesystem layout.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { anomaly, BENCH, children, NA, note, results, ROOT, say, section, tailLines, TMP } from "../lib/context.mjs";
import { fmtInt, fmtMiB, fmtRatio, fmtS, heading, ratio, table } from "../lib/format.mjs";
import { countDistribution, distributionConfig, distributionGc, seedDistribution } from "../lib/gc-dist.mjs";
import { gcShape } from "../lib/gc-shape.mjs";
import { request } from "../lib/http.mjs";
import { sampleRss, spawnTracked, stopChild, waitForOutput } from "../lib/proc.mjs";
import { keepTail } from "../lib/systems.mjs";

const MANIFESTS = Math.max(20, Number(process.env.BENCH_GC_MANIFESTS) || 10_000);
const GC_TIMEOUT_MS = 240_000;
let hostLog = null;

async function postJson(url, body, headers = {}, timeoutMs = 120_000) {
  const res = await request(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body), timeoutMs });
  if (res.status >= 300) throw new Error(`POST ${url}: ${res.status} ${res.body.toString().slice(0, 300)}`);
  return JSON.parse(res.body.toString() || "{}");
}

/** Runs `fn` over `items` in batches of `size`, `parallel` batches at a time. */
async function batched(items, size, parallel, fn) {
  const batches = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < batches.length) await fn(batches[next++]);
  }));
}

/** Seeds the shape through the storage layer: blobs (R2 + blob index), then each repository's links and manifests. */
async function seedOurs(seed, shape) {
  const t0 = performance.now();
  const blobs = [...shape.blobs].map(([d, b]) => ({ d, s: b.size, l: b.label, k: b.key }));
  // modest parallelism: the local R2 simulator (one object, one thread) gets slower per put with thousands queued
  await batched(blobs, 50, 2, (batch) => postJson(`${seed}/blobs`, batch));
  const tBlobs = performance.now();
  const repos = shape.repos.map((r) => ({
    name: r.name,
    links: r.links.map((d) => ({ d, s: shape.blobs.get(d).size, k: shape.blobs.get(d).key })),
    manifests: r.manifests.map((m) => ({ d: m.digest, json: m.json, refs: m.refs, tag: m.tag })),
  }));
  await batched(repos, 10, 2, (batch) => postJson(`${seed}/repos`, batch));
  return { ms: performance.now() - t0, blobsMs: tBlobs - t0, reposMs: performance.now() - tBlobs };
}

/** One GC run through the admin API, polled to its end; the host's memory sampled meanwhile. */
async function oursGc(base, token, sampler, options) {
  const auth = { Authorization: `Bearer ${token}` };
  sampler.mark();
  const t0 = performance.now();
  const { run: started } = await postJson(`${base}/admin/gc`, { deleteUntagged: true, graceSeconds: 0, uploadGraceSeconds: 0, ...options }, auth);
  let run = started;
  while (run.status === "running") {
    if (performance.now() - t0 > GC_TIMEOUT_MS) throw new Error(`GC run ${run.id} still ${run.phase} after ${GC_TIMEOUT_MS / 1000} s: ${JSON.stringify(run.progress)}`);
    await sleep(250);
    const res = await request(`${base}/admin/gc/runs/${run.id}`, { headers: auth, timeoutMs: 30_000 });
    if (res.status !== 200) throw new Error(`GET /admin/gc/runs/${run.id}: ${res.status} ${res.body.toString().slice(0, 200)}`);
    run = JSON.parse(res.body.toString());
  }
  const polledMs = performance.now() - t0;
  const mem = sampler.mark();
  const runMs = run.ended ? Date.parse(run.ended) - Date.parse(run.started) : null;
  if (run.status !== "done") throw new Error(`GC run ${run.id} ${run.status} in phase ${run.phase}: ${JSON.stringify(run.errors.slice(0, 3))}`);
  return { run, polledMs, runMs, peakRss: mem.peak, peakByName: mem.peakByName };
}

/** lib/gc-host.mjs on `dir` (mode "seed": without the edge index), as a tracked child. */
async function startHost(dir, token, mode) {
  const cp = keepTail(spawnTracked(process.execPath, [path.join(BENCH, "lib", "gc-host.mjs"), dir, token, mode], { cwd: ROOT }));
  children.gcHost = cp;
  hostLog = () => cp.tail;
  const text = await waitForOutput(cp, /^ready$/m, 60_000, `GC host (${mode})`);
  return { cp, base: /^registry\s+(\S+)/m.exec(text)[1], seed: /^seed\s+(\S+)/m.exec(text)[1] };
}

async function stopHost(host) {
  await stopChild(host.cp);
  children.gcHost = null;
}

async function stats(seed) {
  const res = await request(`${seed}/stats`, { timeoutMs: 120_000 });
  if (res.status !== 200) throw new Error(`GET /stats: ${res.status} ${res.body.toString().slice(0, 300)}`);
  return JSON.parse(res.body.toString());
}

async function ours(shape, dir) {
  const token = randomBytes(18).toString("base64url");
  // seeding: an instance without the edge index (see gc-host.mjs), stopped; the runs: a fresh one, as configured
  let host = await startHost(dir, token, "seed");
  let seeded;
  let before;
  try {
    seeded = await seedOurs(host.seed, shape);
    before = await stats(host.seed);
  } finally {
    await stopHost(host);
  }
  host = await startHost(dir, token, "gc");
  try {
    const sampler = sampleRss(host.cp.pid, 100);
    await sleep(500);
    const idle = sampler.mark();
    const dry = await oursGc(host.base, token, sampler, { dryRun: true });
    const real = await oursGc(host.base, token, sampler, { dryRun: false });
    sampler.stop();
    const after = await stats(host.seed);
    return { seeded, before, after, idleRss: idle.peak, idleByName: idle.peakByName, dry, real };
  } finally {
    await stopHost(host);
  }
}

async function distribution(shape, root) {
  const t = performance.now();
  seedDistribution(root, shape);
  const seedMs = performance.now() - t;
  const config = distributionConfig(path.join(TMP, "gc-distribution.yml"), root);
  const before = countDistribution(root, shape);
  // no dry run: it would cost the section ~10 s for a figure the comparison does not need
  const real = await distributionGc(config, { dryRun: false });
  const after = countDistribution(root, shape);
  return { seedMs, before, after, real };
}

/**
 * Where both stores live: tmpfs (/dev/shm) when there is one, so the figures are the two GCs' and not the disk's
 * (the local Durable Object storage is ~3x slower on this machine's disk); else the bench's temp dir.
 */
function storeDir() {
  const shm = "/dev/shm";
  try {
    if (process.env.BENCH_GC_DIR) return mkdtempSync(path.join(process.env.BENCH_GC_DIR, "bench-gc-"));
    if (existsSync(shm) && statfsSync(shm).bavail * statfsSync(shm).bsize > 2 * 1024 ** 3) return mkdtempSync(path.join(shm, "bench-gc-"));
  } catch {
    /* fall back to TMP */
  }
  return mkdtempSync(path.join(TMP, "gc-"));
}

async function gcBench() {
  const t = performance.now();
  const shape = gcShape(MANIFESTS);
  const x = shape.expected;
  say(
    `  shape: ${fmtInt(x.repositories)} repositories, ${fmtInt(x.manifests)} manifests (${fmtInt(x.manifestsDeleted)} untagged), ${fmtInt(x.blobs)} blobs, ${fmtInt(x.links)} blob links (generated in ${fmtS(performance.now() - t)})`,
  );
  const dir = storeDir();
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir); // an interrupted run leaves nothing in /dev/shm
  say(`  stores in ${dir}`);
  let o = null;
  let d = null;
  try {
    try {
      mkdirSync(path.join(dir, "ours"));
      o = await ours(shape, path.join(dir, "ours"));
    } catch (e) {
      o = { error: e.message, log: hostLog?.() };
    }
    rmSync(path.join(dir, "ours"), { recursive: true, force: true });
    try {
      d = await distribution(shape, path.join(dir, "distribution"));
    } catch (e) {
      d = { error: e.message };
    }
  } finally {
    removeDir();
    process.removeListener("exit", removeDir);
  }
  if (o.error && d.error) throw new Error(`ours: ${o.error}; distribution: ${d.error}`);
  return { manifests: MANIFESTS, dir, expected: x, ours: o, distribution: d };
}

const fmtKiB = (b) => (b == null ? NA : `${fmtInt(b / 1024)} KiB`);
const per = (n, items) => (n == null || !items ? NA : (n / items).toFixed(2));
const deletedOf = (c) => c.manifests + c.blobLinks + c.blobs;

export async function gcSection() {
  say(
    heading(
      "13. garbage collection",
      `a registry of BENCH_GC_MANIFESTS=${MANIFESTS} manifests seeded through the storage layer (ours: R2 + the Durable Objects by RPC; distribution: its
filesystem layout), then GC with untagged manifests deleted and no grace: a dry run, then the real run.
ours = POST /admin/gc {deleteUntagged, graceSeconds: 0, uploadGraceSeconds: 0}, polled; wall = the run's started..ended;
ops = the run's own counts (DO calls, R2 class A, class B, deletes) per deleted item (manifests + blob links + blobs);
memory = peak VmRSS of workerd (sampled every 100 ms) during the run. distribution = docker-registry garbage-collect
--delete-untagged (wall time of the process, its peak RSS); it stores manifests as blobs and keeps no index of links.`,
    ),
  );
  results.config.gcManifests = MANIFESTS;
  const s = await section("gc", () => gcBench(), () => hostLog?.());
  if (!s) return null;
  report(s);
  return s;
}

function report(s) {
  const x = s.expected;
  const o = s.ours;
  const d = s.distribution;
  if (o.error) {
    say(`  ours FAILED: ${o.error}${o.log ? `\n  last lines of the GC host's log:\n${tailLines(o.log)}` : ""}`);
    anomaly(`GC (ours) failed: ${o.error.split("\n")[0]}`);
  }
  if (d.error) {
    say(`  distribution FAILED: ${d.error}`);
    anomaly(`GC (distribution) failed: ${d.error.split("\n")[0]}`);
  }
  const oc = o.real?.run.counts;
  const dc = o.dry?.run.counts;
  const wd = (m) => m?.peakByName?.workerd ?? null;
  const dReal = d.real?.summary;
  const dGone = d.after ? { blobs: d.before.blobs - d.after.blobs, revisions: d.before.revisions - d.after.revisions, links: d.before.layerLinks - d.after.layerLinks, bytes: d.before.bytes - d.after.bytes } : null;
  const rows = [["", "ours dry run", "ours", "expected", "distribution", "ratio"]];
  rows.push(["seed", "", fmtS(o.seeded?.ms), "", fmtS(d.seedMs), ""]);
  rows.push(["GC wall time", fmtS(o.dry?.runMs), fmtS(o.real?.runMs), "", fmtS(d.real?.ms), fmtRatio(ratio(o.real?.runMs, d.real?.ms))]);
  rows.push(["manifests deleted", fmtInt(dc?.manifests), fmtInt(oc?.manifests), fmtInt(x.manifestsDeleted), fmtInt(dGone?.revisions), ""]);
  rows.push(["blob links deleted", fmtInt(dc?.blobLinks), fmtInt(oc?.blobLinks), fmtInt(x.blobLinksDeleted), fmtInt(dGone?.links), ""]);
  rows.push(["blobs deleted (distribution: + manifests)", fmtInt(dc?.blobs), fmtInt(oc?.blobs), `${fmtInt(x.blobsDeleted)} (+${fmtInt(x.manifestsDeleted)})`, fmtInt(dGone?.blobs), ""]);
  rows.push(["bytes freed", fmtKiB(dc?.bytesFreed), fmtKiB(oc?.bytesFreed), fmtKiB(x.bytesFreed), fmtKiB(dGone?.bytes), ""]);
  rows.push(["errors", fmtInt(dc?.errors), fmtInt(oc?.errors), "0", "", ""]);
  const ops = (r) => r?.run.ops;
  for (const [k, label] of [
    ["doCalls", "DO calls / deleted item"],
    ["classA", "R2 class A / deleted item"],
    ["classB", "R2 class B / deleted item"],
    ["deletes", "R2 deletes / deleted item"],
    ["kvWrites", "KV writes (edge keys) / deleted item"],
  ]) {
    rows.push([label, per(ops(o.dry)?.[k], dc && deletedOf(dc)), per(ops(o.real)?.[k], oc && deletedOf(oc)), "", NA, ""]);
  }
  rows.push(["ops total (DO, A, B, deletes, KV)", opsLine(ops(o.dry)), opsLine(ops(o.real)), "", NA, ""]);
  rows.push(["peak RSS during GC (workerd; distribution)", fmtMiB(wd(o.dry)), fmtMiB(wd(o.real)), "", fmtMiB(d.real?.peakRss), fmtRatio(ratio(wd(o.real), d.real?.peakRss))]);
  rows.push(["peak RSS during GC (node + workerd)", fmtMiB(o.dry?.peakRss), fmtMiB(o.real?.peakRss), "", "", ""]);
  say(table(rows).replace(/^/gm, "  "));
  if (o.seeded) {
    say(`  ours: seed ${fmtS(o.seeded.ms)} (blobs ${fmtS(o.seeded.blobsMs)}, links + manifests ${fmtS(o.seeded.reposMs)}); idle before GC ${fmtMiB(o.idleRss)} (workerd ${fmtMiB(o.idleByName?.workerd)})`);
    say(
      `  ours: polled wall time dry ${fmtS(o.dry?.polledMs)}, real ${fmtS(o.real?.polledMs)}; before: ${fmtInt(o.before.blobRows)} blob-index rows, ${fmtInt(o.before.objects)} R2 data objects, ${fmtInt(o.before.repositories)} repositories; after: ${fmtInt(o.after?.blobRows)} rows, ${fmtInt(o.after?.objects)} objects (expected ${fmtInt(x.blobsKept)} each)`,
    );
  }
  if (d.before) {
    say(
      `  distribution: before ${fmtInt(d.before.blobs)} blobs, ${fmtInt(d.before.revisions)} manifest revisions, ${fmtInt(d.before.layerLinks)} layer links; after ${fmtInt(d.after.blobs)}, ${fmtInt(d.after.revisions)}, ${fmtInt(d.after.layerLinks)}; it printed: ${dReal ? `${fmtInt(dReal.marked)} blobs marked, ${fmtInt(dReal.blobs)} blobs and ${fmtInt(dReal.manifests)} manifests eligible for deletion` : "no summary"} (2.8 leaves layer links in place)`,
    );
  }
  // checks: what a correct GC deletes (computed from the shape)
  if (oc) {
    const checks = [
      ["manifests", oc.manifests, x.manifestsDeleted],
      ["blob links", oc.blobLinks, x.blobLinksDeleted],
      ["blobs", oc.blobs, x.blobsDeleted],
      ["blob rows left", o.after?.blobRows, x.blobsKept],
      ["R2 data objects left", o.after?.objects, x.blobsKept],
    ];
    for (const [what, got, want] of checks) if (got !== want) anomaly(`GC (ours): ${what} ${fmtInt(got)}, expected ${fmtInt(want)}`);
    if (oc.errors) anomaly(`GC (ours): ${oc.errors} errors, first: ${JSON.stringify(o.real.run.errors[0])}`);
    if (dc && (dc.manifests !== oc.manifests || dc.blobs !== oc.blobs || dc.blobLinks !== oc.blobLinks)) anomaly("GC (ours): the dry run's counts differ from the real run's");
    if (dc && dc.bytesFreed !== oc.bytesFreed) anomaly(`GC (ours): the dry run reports ${fmtKiB(dc.bytesFreed)} freed, the real run ${fmtKiB(oc.bytesFreed)}`);
  }
  if (dGone && (dGone.revisions !== x.manifestsDeleted || dGone.blobs !== x.blobsDeleted + x.manifestsDeleted))
    note(`GC (distribution): deleted ${dGone.revisions} manifests and ${dGone.blobs} blobs, expected ${x.manifestsDeleted} and ${x.blobsDeleted + x.manifestsDeleted}`);
}

const opsLine = (ops) => (ops ? `${fmtInt(ops.doCalls)}, ${fmtInt(ops.classA)}, ${fmtInt(ops.classB)}, ${fmtInt(ops.deletes)}, ${fmtInt(ops.kvWrites)}` : NA);
const opsTotal = (ops) => ops.doCalls + ops.classA + ops.classB + ops.deletes + (ops.kvWrites ?? 0);

export function gcSummary(s) {
  const o = s.ours;
  const d = s.distribution;
  const oc = o.real?.run.counts;
  const items = oc ? deletedOf(oc) : null;
  const perItem = o.real?.run.ops && items ? `${per(opsTotal(o.real.run.ops), items)} ops/item` : NA;
  return [
    [`GC ${fmtInt(s.manifests)} manifests: wall time`, fmtS(o.real?.runMs), fmtS(d.real?.ms), fmtRatio(ratio(o.real?.runMs, d.real?.ms))],
    ["GC: storage ops per deleted item, peak RSS", `${perItem}, ${fmtMiB(o.real?.peakByName?.workerd ?? null)}`, `${NA}, ${fmtMiB(d.real?.peakRss)}`, fmtRatio(ratio(o.real?.peakByName?.workerd, d.real?.peakRss))],
  ];
}
