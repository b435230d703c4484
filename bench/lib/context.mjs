// Shared state of one bench run: configuration (env knobs), which sections run (BENCH_ONLY), the printed output,
// the results object written to bench/results/latest.json, the temp dir, the tracked children and their cleanup,
// and section() which runs one section so that a failure is recorded and the run goes on.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { MiB, smallImage } from "./files.mjs";
import { fmtMiB } from "./format.mjs";
import { killAllSync, stopAll, stopChild } from "./proc.mjs";

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = path.resolve(BENCH, "..");

const num = (v, d) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);
export const CFG = {
  wrkSeconds: num(process.env.BENCH_WRK_SECONDS, 8),
  wrkWarmupSeconds: 2,
  bigSize: num(process.env.BENCH_BIG_MIB, 300) * MiB,
  memSize: num(process.env.BENCH_MEM_MIB, 1024) * MiB,
  memChunkSize: num(process.env.BENCH_MEM_CHUNK_MIB, 64) * MiB,
  skopeoRuns: num(process.env.BENCH_SKOPEO_RUNS, 2),
  curlRuns: 3,
  inspectRuns: 3,
  pushBlobSize: 1 * MiB,
  chunkedSize: 20 * MiB,
  imageLayerSize: 1 * MiB,
  // 8. pull-through mirror
  mirrorSize: num(process.env.BENCH_MIRROR_MIB, 100) * MiB,
  mirrorRuns: num(process.env.BENCH_MIRROR_RUNS, 3),
  mirrorWrkSeconds: num(process.env.BENCH_MIRROR_WRK_SECONDS, 5),
  mirrorWrkWarmupSeconds: 1,
  mirrorTagTtl: 300,
};

/** Targets printed beside the figures (issue 9 §2). */
export const TARGETS = {
  edgeOfCeiling: 0.75, // manifest req/s through the edge path, share of the runtime's ceiling
  pushOfBareR2: 0.9, // 1 GiB push throughput, share of a bare R2 put on the same runtime
  memOfBareR2: 1.1, // peak resident memory during the 1 GiB push, share of the bare R2 put's
  registryBundleKiB: 150,
  registryBundleGzipKiB: 40,
};

export const SECTION_MAX = 15;
/** BENCH_ONLY=8 or BENCH_ONLY=2,8: run only these sections (2-5 need 1, the seed, which then runs too). */
export const ONLY = process.env.BENCH_ONLY
  ? new Set(
      process.env.BENCH_ONLY.split(",")
        .map((x) => Number(x.trim()))
        .filter((n) => Number.isInteger(n) && n >= 1 && n <= SECTION_MAX),
    )
  : null;
if (ONLY && [2, 3, 4, 5].some((n) => ONLY.has(n))) ONLY.add(1);
export const want = (n) => !ONLY || ONLY.has(n);

export const BIG_LABEL = `${CFG.bigSize / MiB} MiB`;
export const MEM_LABEL = CFG.memSize === 1024 * MiB ? "1 GiB" : `${CFG.memSize / MiB} MiB`;
export const NA = "n/a";

export const SMALL = smallImage();
export const SMALL_REPO = "bench/small";
export const BLOB_REPO = "bench/blob";

/** `node 70 MiB + workerd 380 MiB` */
export const byName = (m) =>
  m && Object.keys(m).length
    ? Object.entries(m)
        .sort((a, b) => b[1] - a[1])
        .map(([n, v]) => `${n} ${fmtMiB(v)}`)
        .join(" + ")
    : NA;

export const out = [];
export function say(line = "") {
  console.log(line);
  out.push(line);
}
export const results = { meta: {}, config: CFG, sections: {}, anomalies: [], targetsMissed: [], notes: [] };
export function anomaly(text) {
  results.anomalies.push(text);
}
/** A figure on the wrong side of its target (TARGETS): listed apart from the anomalies at the end. */
export function targetMissed(text) {
  results.targetsMissed.push(text);
}
export function note(text) {
  results.notes.push(text);
}

export const TMP = mkdtempSync(path.join(os.tmpdir(), "edge-registry-bench-"));
/** Tracked long-lived children (each a ChildProcess), stopped by cleanup(). */
export const children = {};

let cleanedUp = false;
export async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const k of Object.keys(children)) {
    if (children[k]) await stopChild(children[k], 5000).catch(() => undefined);
  }
  await stopAll().catch(() => undefined);
  if (process.env.BENCH_KEEP_TMP !== "1") rmSync(TMP, { recursive: true, force: true });
}
process.on("exit", () => {
  killAllSync(); // only the bench's own children (tracked by lib/proc.mjs), group by group
  if (!cleanedUp && process.env.BENCH_KEEP_TMP !== "1") {
    try {
      rmSync(TMP, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, cleaning up`);
    const hard = setTimeout(() => process.exit(130), 15_000);
    hard.unref();
    cleanup().finally(() => process.exit(130));
  });
}

/** The last lines of a log, indented. */
export const tailLines = (log, n = 15) =>
  log
    .trim()
    .split("\n")
    .slice(-n)
    .map((l) => `    ${l}`)
    .join("\n");

/**
 * Runs one section: a failure is printed and recorded (with the tail of our system's log) and the run goes on.
 * Returns the section's result, or null if it failed.
 */
export async function section(key, fn, logOf = () => null) {
  try {
    const r = await fn();
    results.sections[key] = r;
    return r;
  } catch (e) {
    const log = logOf();
    say(`  FAILED: ${e.message}`);
    if (log) say(`  last lines of our system's log:\n${tailLines(log)}`);
    results.sections[key] = { error: e.message, log };
    anomaly(`section "${key}" failed: ${e.message.split("\n")[0]}`);
    return null;
  }
}
