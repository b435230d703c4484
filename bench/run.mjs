// `pnpm bench`: benchmarks our registry (the local system from scripts/start.mjs: Node front + workerd with the
// local R2 simulator) against Debian's docker-registry (distribution 2.8.2, filesystem storage) on loopback.
// It prints figures and never asserts. See bench/README.md for the sections and how to read the output.
// This file only orchestrates: data, the shared instances, the sections (bench/sections/*.mjs) and the summary.
//
// Env knobs (optional): BENCH_WRK_SECONDS (default 8), BENCH_BIG_MIB (300), BENCH_MEM_MIB (1024),
// BENCH_MEM_CHUNK_MIB (64, 0 = no chunked push in section 6), BENCH_SKOPEO_RUNS (2), BENCH_MIRROR_MIB (100),
// BENCH_MIRROR_RUNS (3), BENCH_MIRROR_WRK_SECONDS (5), BENCH_GC_MANIFESTS (10000, section 13),
// BENCH_ONLY=8 or =2,8 (only these sections), BENCH_KEEP_TMP=1 (keep the temp dir for inspection).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { hashBench } from "./hash.mjs";
import { BENCH, BIG_LABEL, byName, CFG, children, cleanup, MEM_LABEL, ONLY, out, ROOT, results, say, section, TMP, want } from "./lib/context.mjs";
import { bigLayout, randomFile } from "./lib/files.mjs";
import { fmtMiB, fmtRatio, fmtS, heading, ratio, table } from "./lib/format.mjs";
import { sampleRss, stopChild } from "./lib/proc.mjs";
import { preflight, startDistribution, startOurs, version } from "./lib/systems.mjs";
import { blobGetSection, blobGetSummary } from "./sections/blob-get.mjs";
import { bundleSection, bundleSummary } from "./sections/bundle.mjs";
import { gcSection, gcSummary } from "./sections/gc.mjs";
import { manifestsSection, manifestsSummary } from "./sections/manifests.mjs";
import { pageSection, pageSummary } from "./sections/page.mjs";
import { memorySection, memorySummary } from "./sections/memory.mjs";
import { mirrorSection, mirrorSummaryRows } from "./sections/mirror-report.mjs";
import { opsKey, pullOpsSection, pullOpsSummary } from "./sections/pull-ops.mjs";
import { readPathSection, readPathSummary } from "./sections/read-path.mjs";
import { replicationSection, replicationSummary } from "./sections/replication.mjs";
import { seedSection } from "./sections/seed.mjs";
import { inspectSection, skopeoSection, skopeoSummary } from "./sections/skopeo.mjs";
import { storageOpsSection, storageOpsSummary } from "./sections/storage-ops.mjs";

function gitCommit() {
  try {
    let commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " (+ uncommitted changes)";
    return commit;
  } catch {
    return "unknown"; // not a git checkout
  }
}


const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

/** 9. Hash throughput: no registry involved (core's resumable SHA-2 against libraries and native hashes). */
async function hashSection() {
  say(heading("9. hash throughput", "bench/hash.mjs: the resumable hashes of the upload path, in Node and workerd"));
  return section("hash", () => hashBench(say));
}

async function main() {
  const started = performance.now();
  await preflight();
  const commit = gitCommit();
  Object.assign(results.meta, {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpus: os.cpus().length,
    loadavgStart: os.loadavg(),
    skopeo: version("skopeo", ["--version"]),
    wrk: version("wrk", ["--version"]),
    curl: version("curl", ["--version"]),
    distribution: version("docker-registry", ["--version"]),
  });
  say(
    heading(
      "edge-registry benchmark",
      `ours = scripts/start.mjs (Node HTTP front + workerd, local R2 simulator on disk)
distribution = Debian docker-registry ${results.meta.distribution.split(" ").pop()} (filesystem storage), both on 127.0.0.1
commit ${commit}, node ${process.version}, ${os.cpus().length} cpus, load average at start ${loadavg()}
ratio = ours / distribution (for req/s and MB/s higher is better; for times and memory lower is better)
units: MB/s = 10^6 bytes/s, memory in MiB`,
    ),
  );
  if (ONLY) say(`BENCH_ONLY: sections ${[...ONLY].sort((a, b) => a - b).join(", ")}`);
  // the main instance of ours serves sections 1-5; distribution (main) serves sections 1-6, 8 and 10
  const mainNeeded = [1, 2, 3, 4, 5].some(want);
  const distNeeded = [1, 2, 3, 4, 5, 6, 8, 10].some(want);

  // data
  say(`\npreparing data in ${TMP} ...`);
  let t = performance.now();
  const big = want(1) ? await randomFile(path.join(TMP, "big.bin"), CFG.bigSize) : null;
  const mem = want(6) ? await randomFile(path.join(TMP, "mem.bin"), CFG.memSize) : null;
  const layouts = [];
  if (want(4)) for (let i = 0; i < CFG.skopeoRuns; i++) layouts.push(await bigLayout(path.join(TMP, `layout-${i}`), CFG.bigSize, "t"));
  const prepared = [big && `${BIG_LABEL} blob`, mem && `${MEM_LABEL} blob`, layouts.length && `${layouts.length} OCI layouts with a ${BIG_LABEL} gzip layer`].filter(Boolean);
  say(`  ${prepared.length ? prepared.join(", ") : "nothing (the sections that run make their own data)"}: ${fmtS(performance.now() - t)}`);

  // registries
  t = performance.now();
  const dist = distNeeded ? await startDistribution() : null;
  children.dist = dist?.cp ?? null;
  const ours = mainNeeded ? await startOurs("main") : null;
  children.ours = ours?.cp ?? null;
  const regs = [ours, dist];
  const oursLog = () => ours?.cp.tail;
  if (dist) say(`  started ${ours ? `ours at ${ours.base} and ` : ""}distribution at ${dist.base}: ${fmtS(performance.now() - t)}`);
  const env = { regs, ours, dist, big, mem, layouts, oursLog };
  const s = {};
  const summary = [];

  if (mainNeeded) {
    const runPeak = { ours: sampleRss(ours.cp.pid, 100), distribution: sampleRss(dist.cp.pid, 100) };
    const sectionPeaks = {};
    const markPeaks = (key) => {
      sectionPeaks[key] = { ours: runPeak.ours.mark(), distribution: runPeak.distribution.mark() };
    };
    const mainSections = [
      [1, "seed", seedSection],
      [2, "manifests", manifestsSection],
      [3, "blob GET", blobGetSection],
      [4, "skopeo", skopeoSection],
      [5, "inspect", inspectSection],
    ];
    for (const [n, key, fn] of mainSections) {
      if (!want(n)) continue;
      s[n] = await fn(env);
      markPeaks(key);
    }
    // main instance done: its whole-run peak memory, then stop it so it does not compete with the next sections
    const peakOurs = runPeak.ours.stop();
    const peakDist = runPeak.distribution.stop();
    results.sections.runPeakRss = {
      ours: peakOurs.peak,
      oursByName: peakOurs.peakByName,
      distribution: peakDist.peak,
      perSection: Object.fromEntries(
        Object.entries(sectionPeaks).map(([k, v]) => [k, { ours: v.ours.peak, oursByName: v.ours.peakByName, distribution: v.distribution.peak }]),
      ),
    };
    await stopChild(ours.cp);
    children.ours = null;
    say(`\n  peak RSS of the main instances during sections 1-5: ours ${fmtMiB(peakOurs.peak)} (${byName(peakOurs.peakByName)}), distribution ${fmtMiB(peakDist.peak)}`);
    say(`  per section, ours / distribution: ${Object.entries(sectionPeaks).map(([k, v]) => `${k} ${fmtMiB(v.ours.peak)} / ${fmtMiB(v.distribution.peak)}`).join(", ")}`);
    if (s[2]) summary.push(...manifestsSummary(s[2]));
    if (s[3]) summary.push(...blobGetSummary(s[3]));
    summary.push(...skopeoSummary(s[4], s[5]));
    summary.push(["peak RSS over sections 1-5", fmtMiB(peakOurs.peak), fmtMiB(peakDist.peak), fmtRatio(ratio(peakOurs.peak, peakDist.peak))]);
  }

  // the sections with instances of their own: [number, run, summary rows]
  const later = [
    [6, memorySection, memorySummary],
    [7, storageOpsSection, storageOpsSummary],
    [8, mirrorSection, mirrorSummaryRows],
    [9, hashSection, () => []],
    [10, readPathSection, readPathSummary],
    [11, pullOpsSection, pullOpsSummary],
    [12, bundleSection, bundleSummary],
    [13, gcSection, gcSummary],
    [14, replicationSection, replicationSummary],
    [15, pageSection, pageSummary],
  ];
  for (const [n, run, rows] of later) {
    if (!want(n)) continue;
    s[n] = await run(env);
    if (s[n]) summary.push(...rows(s[n]));
  }
  if (s[11]) results.ops = opsKey(s[11]);

  // summary
  results.meta.loadavgEnd = os.loadavg();
  results.meta.durationMs = performance.now() - started;
  say(heading("summary"));
  say(table([["workload", "ours", "distribution", "ratio"], ...summary]));
  say(`\nload average at end ${loadavg()}; total ${fmtS(results.meta.durationMs)}`);
  const list = (xs) => xs.map((a) => `  - ${a}`).join("\n");
  const { anomalies, targetsMissed, notes } = results;
  say(anomalies.length ? `\nanomalies (${anomalies.length}):\n${list(anomalies)}` : "\nanomalies: none detected");
  say(targetsMissed.length ? `\ntargets missed (${targetsMissed.length}):\n${list(targetsMissed)}` : "\ntargets missed: none (of those measured)");
  if (notes.length) say(`\nnotes (small, expected-looking deviations):\n${list(notes)}`);
}

let failed = null;
try {
  await main();
} catch (e) {
  failed = e;
  console.error(`\nbench failed: ${e.stack || e}`);
  results.error = String(e.stack || e);
} finally {
  await cleanup();
  try {
    mkdirSync(path.join(BENCH, "results"), { recursive: true });
    results.output = out;
    writeFileSync(path.join(BENCH, "results", "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nfigures written to ${path.relative(process.cwd(), path.join(BENCH, "results", "latest.json"))}`);
  } catch (e) {
    console.error(`could not write results: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
