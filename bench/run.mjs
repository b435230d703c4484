// `pnpm bench`: benchmarks our registry (the local system from scripts/start.mjs: Node front + workerd with the
// local R2 simulator) against Debian's docker-registry (distribution 2.8.2, filesystem storage) on loopback.
// It prints figures and never asserts. See bench/README.md for the workloads and how to read the output.
//
// Env knobs (optional): BENCH_WRK_SECONDS (default 8), BENCH_BIG_MIB (300), BENCH_MEM_MIB (1024),
// BENCH_SKOPEO_RUNS (2), BENCH_MIRROR_MIB (100), BENCH_MIRROR_RUNS (3), BENCH_MIRROR_WRK_SECONDS (5),
// BENCH_ONLY=8 or =2,8 (only these sections), BENCH_KEEP_TMP=1 (keep the temp dir for inspection).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

import { bigLayout, imageLayout, manifestFor, MiB, randomFile, sha256, smallImage } from "./lib/files.mjs";
import {
  addOps,
  expectStatus,
  MANIFEST_TYPE,
  parseStorageOps,
  pushBlob,
  putManifest,
  request,
  supportsMonolithicPost,
  waitForV2,
  withDigest,
  zeroOps,
} from "./lib/http.mjs";
import { fmtInt, fmtMiB, fmtMs, fmtRate, fmtRatio, fmtS, heading, ratio, row, table } from "./lib/format.mjs";
import { hashBench } from "./hash.mjs";
import { loadTest } from "./lib/load.mjs";
import { killAllSync, listeningPorts, run, sampleRss, spawnTracked, stopAll, stopChild, treePids, treeRss, waitForOutput } from "./lib/proc.mjs";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, "..");

const num = (v, d) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);
const CFG = {
  wrkSeconds: num(process.env.BENCH_WRK_SECONDS, 8),
  wrkWarmupSeconds: 2,
  bigSize: num(process.env.BENCH_BIG_MIB, 300) * MiB,
  memSize: num(process.env.BENCH_MEM_MIB, 1024) * MiB,
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
/** BENCH_ONLY=8 or BENCH_ONLY=2,8: run only these sections (2-5 need 1, the seed, which then runs too). */
const ONLY = process.env.BENCH_ONLY
  ? new Set(
      process.env.BENCH_ONLY.split(",")
        .map((x) => Number(x.trim()))
        .filter((n) => Number.isInteger(n) && n >= 1 && n <= 9),
    )
  : null;
if (ONLY && [2, 3, 4, 5].some((n) => ONLY.has(n))) ONLY.add(1);
const want = (n) => !ONLY || ONLY.has(n);
/** `node 70 MiB + workerd 380 MiB` */
const byName = (m) =>
  m && Object.keys(m).length
    ? Object.entries(m)
        .sort((a, b) => b[1] - a[1])
        .map(([n, v]) => `${n} ${fmtMiB(v)}`)
        .join(" + ")
    : "n/a";
const BIG_LABEL = `${CFG.bigSize / MiB} MiB`;
const MEM_LABEL = CFG.memSize === 1024 * MiB ? "1 GiB" : `${CFG.memSize / MiB} MiB`;

const out = [];
function say(line = "") {
  console.log(line);
  out.push(line);
}
const results = { meta: {}, config: CFG, sections: {}, anomalies: [], notes: [] };
const anomalies = results.anomalies;
const notes = results.notes;
function anomaly(text) {
  anomalies.push(text);
}
function note(text) {
  notes.push(text);
}

// ---------------------------------------------------------------------------------------------------------
// Setup / teardown
// ---------------------------------------------------------------------------------------------------------

const TMP = mkdtempSync(path.join(os.tmpdir(), "edge-registry-bench-"));
const children = { ours: null, oursMem: null, oursMetrics: null, bare: null, dist: null, upstream: null, mirror: null, mirrorMetrics: null };

let cleanedUp = false;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const k of Object.keys(children)) {
    if (children[k]) await stopChild(children[k], 5000).catch(() => undefined);
  }
  await stopAll().catch(() => undefined);
  if (process.env.BENCH_KEEP_TMP !== "1") rmSync(TMP, { recursive: true, force: true });
}
process.on("exit", () => {
  killAllSync();
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

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Keeps the last 16 KiB of a child's output (and keeps its pipes drained). */
function keepTail(cp) {
  cp.tail = "";
  const on = (d) => (cp.tail = (cp.tail + d).slice(-16384));
  cp.stdout?.on("data", on);
  cp.stderr?.on("data", on);
  return cp;
}

/** Our system in a child process (`node scripts/start.mjs`): its process tree is measurable on its own. */
async function startOurs(label, { metrics = false, env = {} } = {}) {
  const stateDir = path.join(TMP, `state-${label}`);
  mkdirSync(stateDir, { recursive: true });
  const cp = keepTail(
    spawnTracked(process.execPath, [path.join(ROOT, "scripts", "start.mjs")], {
      cwd: ROOT,
      env: {
        ...process.env,
        SKIP_BUILD: "1",
        REGISTRY_PORT: "0",
        AUTH_PORT: "0",
        MIRROR_PORT: "0", // other public services of the system (if any) on free ports too
        // The bench's raw HTTP clients (wrk, curl, Node) carry no bearer tokens: measure the registry without
        // token auth (verification of a cached token is an in-memory lookup per request).
        REGISTRY_AUTH: "off",
        STATE_DIR: stateDir,
        STORAGE_METRICS: metrics ? "on" : "off",
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        ...env,
      },
    }),
  );
  const text = await waitForOutput(cp, /^ready$/m, 60_000, `our system (${label})`);
  const m = /^registry\s+(http:\/\/\S+)/m.exec(text);
  if (!m) throw new Error(`our system (${label}): no registry URL in output:\n${text}`);
  const base = m[1].replace(/\/$/, "");
  await waitForV2(base);
  const mirror = /^mirror\s+(http:\/\/\S+)/m.exec(text)?.[1].replace(/\/$/, "") ?? null;
  return { cp, base, host: new URL(base).host, mirror, mirrorHost: mirror ? new URL(mirror).host : null, stateDir, name: "ours" };
}

/** A minimal Miniflare worker that only does env.B.put(), in its own process. */
async function startBareR2() {
  const dir = path.join(TMP, "bare-r2");
  mkdirSync(dir, { recursive: true });
  const cp = keepTail(spawnTracked(process.execPath, [path.join(BENCH, "bare-r2.mjs"), dir], { cwd: ROOT }));
  const text = await waitForOutput(cp, /^ready$/m, 60_000, "bare R2 worker");
  const base = /^url\s+(\S+)/m.exec(text)[1];
  return { cp, base, dir };
}

/**
 * Debian's docker-registry (distribution 2.8.2) with filesystem storage under TMP. `accessLog`: its access log
 * (one combined-log line per request on stdout) is kept in `accessLog` of the result (see countUpstream).
 * `root`: storage directory (default TMP/distribution); two processes may serve the same one.
 */
async function startDistribution({ label = "distribution", root = path.join(TMP, "distribution"), accessLog = false } = {}) {
  const port = await freePort();
  mkdirSync(root, { recursive: true });
  const cfg = path.join(TMP, `${label}.yml`);
  writeFileSync(
    cfg,
    [
      "version: 0.1",
      `log: { level: error, accesslog: { disabled: ${accessLog ? "false" : "true"} } }`,
      `storage: { filesystem: { rootdirectory: ${root} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      "",
    ].join("\n"),
  );
  const cp = keepTail(spawnTracked("docker-registry", ["serve", cfg]));
  const log = [];
  if (accessLog) {
    let partial = "";
    cp.stdout.on("data", (d) => {
      const lines = (partial + d).split("\n");
      partial = lines.pop();
      for (const line of lines) if (line.trim()) log.push(line);
    });
  }
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForV2(base, 20_000),
    cp.exited.then(({ code }) => {
      throw new Error(`docker-registry exited (${code}): ${cp.tail}`);
    }),
  ]);
  return { cp, base, host: `127.0.0.1:${port}`, root, name: "distribution", accessLog: log };
}

async function preflight() {
  const have = (cmd) => {
    try {
      execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (!have("wrk") && process.getuid?.() === 0) {
    say("wrk missing: apt-get install -y wrk");
    await run("apt-get", ["install", "-y", "wrk"], { timeoutMs: 180_000 });
  }
  const missing = ["wrk", "curl", "skopeo", "docker-registry"].filter((c) => !have(c));
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")} (apt-get install -y skopeo docker-registry wrk curl)`);
  const dist = path.join(ROOT, "workers", "registry", "dist", "index.js");
  if (!existsSync(dist)) throw new Error(`${dist} missing: run \`node scripts/build.mjs\` first (pnpm bench does)`);
}

function version(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).split("\n")[0].trim();
  } catch (e) {
    return (e.stdout || e.stderr || "").toString().split("\n")[0].trim() || "unknown";
  }
}

// ---------------------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------------------

const SMALL = smallImage();
const SMALL_REPO = "bench/small";
const BLOB_REPO = "bench/blob";

/** 1. Seed: small image (config + layer + manifest as bench/small:latest) and the big random blob. */
async function seed(reg, big) {
  const [config, layer] = SMALL.blobs;
  reg.monolithic = await supportsMonolithicPost(reg.base, SMALL_REPO, config.digest, config.body);
  reg.pushMode = reg.monolithic ? "post" : "post-put";
  if (!reg.monolithic) await pushBlob(reg.base, SMALL_REPO, config.digest, { body: config.body }, reg.pushMode);
  await pushBlob(reg.base, SMALL_REPO, layer.digest, { body: layer.body }, reg.pushMode);
  const put = await putManifest(reg.base, SMALL_REPO, "latest", SMALL.manifest);
  const dcd = put.headers["docker-content-digest"];
  if (dcd && dcd !== SMALL.manifestDigest) anomaly(`${reg.name}: manifest PUT answered digest ${dcd}, expected ${SMALL.manifestDigest}`);
  const get = await request(`${reg.base}/v2/${SMALL_REPO}/manifests/latest`, { headers: { Accept: MANIFEST_TYPE } });
  expectStatus(get, 200, `${reg.name}: GET manifest by tag`);
  if (!get.body.equals(SMALL.manifest)) anomaly(`${reg.name}: manifest GET by tag returned different bytes`);
  const p = await pushBlob(reg.base, BLOB_REPO, big.digest, { file: big.file }, reg.pushMode, 600_000);
  const head = await request(`${reg.base}/v2/${BLOB_REPO}/blobs/${big.digest}`, { method: "HEAD" });
  expectStatus(head, 200, `${reg.name}: HEAD big blob`);
  if (Number(head.headers["content-length"]) !== big.size)
    anomaly(`${reg.name}: HEAD of the ${BIG_LABEL} blob says Content-Length ${head.headers["content-length"]}`);
  return { mode: reg.pushMode, bigPushMs: p.ms, bigPushRate: big.size / (p.ms / 1000) };
}

function parseWrk(text) {
  const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? NaN);
  const lat = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
    return m ? toMs(m[1], m[2]) : null;
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const total = /(\d+) requests in ([\d.]+)(s|m|ms)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps: rps ? Number(rps[1]) : null,
    p50: lat(50),
    p75: lat(75),
    p90: lat(90),
    p99: lat(99),
    requests: total ? Number(total[1]) : null,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    socketErrorsDetail: sock ? sock[0] : null,
  };
}

async function wrk(url, { head, seconds }) {
  const args = ["-t2", "-c16", `-d${seconds}s`, "--latency", "-H", `Accept: ${MANIFEST_TYPE}`];
  if (head) args.push("-s", path.join(TMP, "head.lua"));
  args.push(url);
  const r = await run("wrk", args, { timeoutMs: (seconds + 30) * 1000 });
  if (r.code !== 0) throw new Error(`wrk failed (${r.code}): ${r.stderr}${r.stdout}`);
  return parseWrk(r.stdout);
}

/** Can this wrk send HEAD? (Debian's 4.1.0 waits for a body after a HEAD response with Content-Length.) */
async function wrkCanHead(base) {
  const r = await run("wrk", ["-t1", "-c1", "-d1s", "-s", path.join(TMP, "head.lua"), `${base}/v2/`], { timeoutMs: 30_000 });
  const w = parseWrk(r.stdout);
  return r.code === 0 && (w.requests ?? 0) > 0;
}

/** 2. Manifest GET by tag / HEAD by digest under load (wrk; HEAD with the node load generator if wrk can't). */
async function manifestLoad(regs, dist) {
  writeFileSync(path.join(TMP, "head.lua"), 'wrk.method = "HEAD"\n');
  const headWithWrk = await wrkCanHead(dist.base);
  const cases = [
    { key: "getByTag", label: "manifest GET by tag", path: `/v2/${SMALL_REPO}/manifests/latest`, head: false, tool: "wrk" },
    {
      key: "headByDigest",
      label: "manifest HEAD by digest",
      path: `/v2/${SMALL_REPO}/manifests/${SMALL.manifestDigest}`,
      head: true,
      tool: headWithWrk ? "wrk" : "node",
    },
    // the node generator on the GET too, so its figures can be set against wrk's
    { key: "getByTagNode", label: "manifest GET by tag", path: `/v2/${SMALL_REPO}/manifests/latest`, head: false, tool: "node" },
  ];
  const res = { headTool: headWithWrk ? "wrk" : "node load generator (wrk 4.1.0 cannot HEAD)" };
  for (const c of cases) {
    if (c.key === "getByTagNode" && headWithWrk) continue;
    res[c.key] = {};
    for (const reg of regs) {
      // sanity: one request first, so a wrong status shows up as such and not as a fast error rate
      const probe = await request(reg.base + c.path, { method: c.head ? "HEAD" : "GET", headers: { Accept: MANIFEST_TYPE } });
      if (probe.status !== 200) anomaly(`${reg.name}: ${c.label} answers HTTP ${probe.status}`);
      const go = (seconds) =>
        c.tool === "wrk"
          ? wrk(reg.base + c.path, { head: c.head, seconds })
          : loadTest({
              url: reg.base + c.path,
              method: c.head ? "HEAD" : "GET",
              headers: { Accept: MANIFEST_TYPE },
              threads: 2,
              connections: 16,
              seconds,
            });
      await go(CFG.wrkWarmupSeconds); // warm-up
      const w = await go(CFG.wrkSeconds);
      w.tool = c.tool;
      if (w.non2xx || w.socketErrors)
        anomaly(`${reg.name}: ${c.label} under ${c.tool}: ${w.non2xx} non-2xx responses, ${w.socketErrors} socket errors`);
      if (!w.requests) anomaly(`${reg.name}: ${c.label} under ${c.tool}: no request completed`);
      res[c.key][reg.name] = w;
    }
  }
  return res;
}

/** 3. Blob GET of the big blob with curl, plain and with Accept-Encoding: gzip; best of N. */
async function blobGet(regs, big) {
  const res = {};
  for (const gzip of [false, true]) {
    const key = gzip ? "acceptGzip" : "plain";
    res[key] = {};
    for (const reg of regs) {
      const runs = [];
      for (let i = 0; i < CFG.curlRuns; i++) {
        const args = [
          "-s",
          "-o",
          "/dev/null",
          "--max-time",
          "120",
          "-w",
          "%{speed_download} %{size_download} %{http_code} [%header{content-encoding}] [%header{content-type}] [%header{content-length}]",
        ];
        if (gzip) args.push("-H", "Accept-Encoding: gzip");
        args.push(`${reg.base}/v2/${BLOB_REPO}/blobs/${big.digest}`);
        const r = await run("curl", args, { timeoutMs: 130_000 });
        const m = /^([\d.]+) (\d+) (\d+) \[(.*?)\] \[(.*?)\] \[(.*?)\]/.exec(r.stdout.trim());
        if (!m) {
          runs.push({ error: `curl exit ${r.code}: ${r.stdout} ${r.stderr}` });
          continue;
        }
        runs.push({
          speed: Number(m[1]),
          size: Number(m[2]),
          status: Number(m[3]),
          contentEncoding: m[4] || null,
          contentType: m[5] || null,
          contentLength: m[6] ? Number(m[6]) : null,
          exit: r.code,
        });
      }
      const good = runs.filter((x) => !x.error);
      const best = good.reduce((a, b) => (!a || b.speed > a.speed ? b : a), null);
      const sizeOk = good.length > 0 && good.every((x) => x.size === big.size && x.status === 200);
      const enc = [...new Set(good.map((x) => x.contentEncoding).filter(Boolean))];
      res[key][reg.name] = { best: best?.speed ?? null, runs, sizeOk, contentEncoding: enc.join(",") || null };
      if (!sizeOk)
        anomaly(
          `${reg.name}: blob GET${gzip ? " (Accept-Encoding: gzip)" : ""}: size_download/status ${good.map((x) => `${x.size}/${x.status}`).join(", ") || "(curl failed)"} — expected ${big.size}/200`,
        );
      if (enc.length) anomaly(`${reg.name}: blob GET${gzip ? " (Accept-Encoding: gzip)" : ""} came back with Content-Encoding: ${enc.join(",")}`);
      if (good.some((x) => x.contentLength == null))
        anomaly(`${reg.name}: blob GET${gzip ? " (Accept-Encoding: gzip)" : ""} without Content-Length`);
      if (reg.name === "ours" && best && best.speed < 1e9)
        anomaly(`ours: blob GET${gzip ? " (Accept-Encoding: gzip)" : ""} ${fmtRate(best.speed)} — below 1 GB/s`);
    }
  }
  return res;
}

/**
 * Diagnostic for ours: the same blob GET straight from workerd's listener (Miniflare's entry socket), bypassing the
 * Node HTTP front, to tell the front's cost from the worker's. Returns best MB/s or null.
 */
async function blobGetDirect(ours, big) {
  const workerd = treePids(ours.cp.pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd";
    } catch {
      return false;
    }
  });
  // workerd listens on Miniflare's entry socket and on one direct socket per worker: use the first that serves the blob
  const ports = workerd.flatMap((p) => listeningPorts(p));
  let port = null;
  for (const p of ports) {
    const r = await request(`http://127.0.0.1:${p}/v2/${BLOB_REPO}/blobs/${big.digest}`, { method: "HEAD", timeoutMs: 5000 }).catch(() => null);
    if (r?.status === 200 && Number(r.headers["content-length"]) === big.size) {
      port = p;
      break;
    }
  }
  if (port == null) return { best: null, why: `none of workerd's ${ports.length} loopback ports serves the blob` };
  const runs = [];
  for (let i = 0; i < CFG.curlRuns; i++) {
    const r = await run(
      "curl",
      ["-s", "-o", "/dev/null", "--max-time", "120", "-w", "%{speed_download} %{size_download} %{http_code}", `http://127.0.0.1:${port}/v2/${BLOB_REPO}/blobs/${big.digest}`],
      { timeoutMs: 130_000 },
    );
    const m = /^([\d.]+) (\d+) (\d+)/.exec(r.stdout.trim());
    if (m && Number(m[2]) === big.size && m[3] === "200") runs.push(Number(m[1]));
  }
  return { best: runs.length ? Math.max(...runs) : null, port, runs };
}

/** Size of all files in a directory (for a skopeo dir: pull). */
function dirFiles(dir) {
  try {
    return readdirSync(dir).map((f) => ({ f, size: statSync(path.join(dir, f)).size }));
  } catch {
    return [];
  }
}

/** 4. skopeo push (oci: layout → registry) and pull (registry → dir:) of an image with a big layer. */
async function skopeoPushPull(regs, layouts) {
  const res = { runs: [] };
  for (let i = 0; i < layouts.length; i++) {
    const lay = layouts[i];
    const order = i % 2 === 0 ? regs : [...regs].reverse();
    const runRes = { run: i + 1 };
    for (const reg of order) {
      const repo = `bench/big-r${i + 1}`;
      const push = await run(
        "skopeo",
        ["copy", "--dest-tls-verify=false", `oci:${lay.dir}:t`, `docker://${reg.host}/${repo}:t`],
        { timeoutMs: 300_000 },
      );
      const pullDir = path.join(TMP, `pull-${reg.name}-${i}`);
      const pull =
        push.code === 0
          ? await run("skopeo", ["copy", "--src-tls-verify=false", `docker://${reg.host}/${repo}:t`, `dir:${pullDir}`], {
              timeoutMs: 300_000,
            })
          : null;
      const layerFile = dirFiles(pullDir).find((x) => x.f === lay.layerDigest.slice(7));
      const layerOk = !!layerFile && layerFile.size === lay.layerSize;
      rmSync(pullDir, { recursive: true, force: true });
      runRes[reg.name] = {
        pushMs: push.code === 0 ? push.ms : null,
        pullMs: pull && pull.code === 0 ? pull.ms : null,
        pushError: push.code === 0 ? null : (push.stderr || push.stdout).trim().slice(-500),
        pullError: !pull || pull.code === 0 ? null : (pull.stderr || pull.stdout).trim().slice(-500),
        layerOk,
      };
      if (push.code !== 0) anomaly(`${reg.name}: skopeo push run ${i + 1} failed: ${runRes[reg.name].pushError}`);
      else if (pull?.code !== 0) anomaly(`${reg.name}: skopeo pull run ${i + 1} failed: ${runRes[reg.name].pullError}`);
      else if (!layerOk) anomaly(`${reg.name}: skopeo pull run ${i + 1}: pulled layer missing or of the wrong size`);
    }
    res.runs.push(runRes);
    rmSync(lay.dir, { recursive: true, force: true });
  }
  for (const reg of regs) {
    const push = res.runs.map((r) => r[reg.name].pushMs).filter((x) => x != null);
    const pull = res.runs.map((r) => r[reg.name].pullMs).filter((x) => x != null);
    res[reg.name] = {
      pushBestMs: push.length ? Math.min(...push) : null,
      pullBestMs: pull.length ? Math.min(...pull) : null,
      pushMs: push,
      pullMs: pull,
    };
  }
  return res;
}

/** 5. skopeo inspect --tls-verify=false: a TLS-fallback stall would show as ~10 s. */
async function skopeoInspect(regs) {
  const res = {};
  for (const reg of regs) {
    const times = [];
    let error = null;
    for (let i = 0; i < CFG.inspectRuns; i++) {
      const r = await run("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/${SMALL_REPO}:latest`], {
        timeoutMs: 60_000,
      });
      if (r.code !== 0) {
        error = (r.stderr || r.stdout).trim().slice(-500);
        continue;
      }
      times.push(r.ms);
      if (i === 0) {
        try {
          const info = JSON.parse(r.stdout);
          if (info.Digest !== SMALL.manifestDigest) anomaly(`${reg.name}: skopeo inspect reports digest ${info.Digest}`);
        } catch {
          anomaly(`${reg.name}: skopeo inspect printed no JSON`);
        }
      }
    }
    const sorted = [...times].sort((a, b) => a - b);
    res[reg.name] = {
      medianMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
      maxMs: sorted.length ? sorted[sorted.length - 1] : null,
      runsMs: times,
      error,
    };
    if (error) anomaly(`${reg.name}: skopeo inspect failed: ${error}`);
    if (sorted.length && sorted[sorted.length - 1] > 5000)
      anomaly(`${reg.name}: skopeo inspect took ${fmtS(sorted[sorted.length - 1])} — looks like the TLS-fallback stall`);
  }
  return res;
}

/** Pushes the big memory-test file while sampling the resident memory of `pid`'s process tree. */
async function measuredPush(pid, push, size) {
  const idle = treeRss(pid);
  const sampler = sampleRss(pid, 100);
  const t0 = performance.now();
  let error = null;
  try {
    await push();
  } catch (e) {
    error = e.message;
  }
  const ms = performance.now() - t0;
  await sleep(300); // catch a late peak (e.g. the final write)
  const s = sampler.stop();
  return {
    idleRss: idle,
    peakRss: s.peak,
    peakByName: s.peakByName,
    afterRss: s.last,
    samples: s.samples,
    ms,
    rate: error ? null : size / (ms / 1000),
    error,
  };
}

/** 6. Peak resident memory during a monolithic push of the memory-test file. */
async function memory(dist, mem) {
  const res = {};
  // ours: a fresh instance, alone on the machine apart from distribution (idle)
  children.oursMem = await startOurs("mem");
  await sleep(1000);
  res.ours = await measuredPush(
    children.oursMem.cp.pid,
    () => pushBlob(children.oursMem.base, "bench/mem", mem.digest, { file: mem.file }, "post", 900_000),
    mem.size,
  );
  if (!res.ours.error) {
    const head = await request(`${children.oursMem.base}/v2/bench/mem/blobs/${mem.digest}`, { method: "HEAD" });
    if (head.status !== 200 || Number(head.headers["content-length"]) !== mem.size)
      anomaly(`ours: after the ${MEM_LABEL} push, HEAD answers ${head.status} length ${head.headers["content-length"]}`);
  } else anomaly(`ours: ${MEM_LABEL} monolithic push failed: ${res.ours.error}`);
  await stopChild(children.oursMem.cp);
  rmSync(children.oursMem.stateDir, { recursive: true, force: true });
  children.oursMem = null;

  // bare R2 put through the same runtime (Miniflare API, one-line worker)
  children.bare = await startBareR2();
  await sleep(1000);
  res.bareR2 = await measuredPush(
    children.bare.cp.pid,
    async () => {
      const r = await request(`${children.bare.base}/`, {
        method: "PUT",
        file: mem.file,
        headers: { "Content-Type": "application/octet-stream" },
        timeoutMs: 900_000,
      });
      expectStatus(r, 200, "bare R2 put");
    },
    mem.size,
  );
  if (res.bareR2.error) anomaly(`bare R2 put of ${MEM_LABEL} failed: ${res.bareR2.error}`);
  else {
    // and read it back through the same runtime (no front, no registry code): the simulator's own GET speed
    const speeds = [];
    for (let i = 0; i < 2; i++) {
      const r = await run("curl", ["-s", "-o", "/dev/null", "--max-time", "120", "-w", "%{speed_download} %{size_download} %{http_code}", `${children.bare.base}/`], {
        timeoutMs: 130_000,
      });
      const m = /^([\d.]+) (\d+) (\d+)/.exec(r.stdout.trim());
      if (m && Number(m[2]) === mem.size && m[3] === "200") speeds.push(Number(m[1]));
    }
    res.bareR2.getRate = speeds.length ? Math.max(...speeds) : null;
    if (!speeds.length) anomaly("bare R2 get: no complete download");
  }
  await stopChild(children.bare.cp);
  rmSync(children.bare.dir, { recursive: true, force: true });
  children.bare = null;

  // distribution: POST + PUT with the whole body (its one-request push)
  res.distribution = await measuredPush(
    dist.cp.pid,
    () => pushBlob(dist.base, "bench/mem", mem.digest, { file: mem.file }, dist.pushMode, 900_000),
    mem.size,
  );
  if (res.distribution.error) anomaly(`distribution: ${MEM_LABEL} push failed: ${res.distribution.error}`);

  if (res.ours.peakRss > 350 * MiB) anomaly(`ours: peak resident memory ${fmtMiB(res.ours.peakRss)} during the ${MEM_LABEL} push — above 350 MiB`);
  return res;
}

/** Sum of X-Storage-Ops over a sequence of requests; keeps each step too. */
function opsOf(steps) {
  const total = steps.reduce((a, s) => addOps(a, s.ops), zeroOps());
  return { ...total, steps: steps.map((s) => ({ step: s.step, status: s.status, ...s.ops })) };
}

async function stepped(step, url, opts, expected) {
  const r = await request(url, opts);
  expectStatus(r, expected, step);
  return { step, status: r.status, ops: parseStorageOps(r.headers["x-storage-ops"]), res: r };
}

/** POST + PATCH + PUT of one blob; chunked=true sends the PATCH with Transfer-Encoding: chunked. */
async function pushSteps(base, repo, body, digest, { chunked = false } = {}) {
  const post = await stepped("POST", `${base}/v2/${repo}/blobs/uploads/`, { method: "POST" }, 202);
  const loc = new URL(post.res.headers.location, base).toString();
  const chunks = [];
  if (chunked) for (let o = 0; o < body.length; o += MiB) chunks.push(body.subarray(o, Math.min(o + MiB, body.length)));
  const patch = await stepped(
    chunked ? "PATCH (chunked)" : "PATCH",
    loc,
    {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream" },
      ...(chunked ? { chunks } : { body }),
      timeoutMs: 120_000,
    },
    202,
  );
  const put = await stepped("PUT", withDigest(base, patch.res.headers.location ?? loc, digest), { method: "PUT" }, 201);
  return [post, patch, put];
}

/** 7. Storage operations per request on a metrics-on instance of ours. Each row on its own: one failing row is recorded. */
async function storageOps() {
  children.oursMetrics = await startOurs("metrics", { metrics: true });
  const base = children.oursMetrics.base;
  const [config, layer] = SMALL.blobs;
  const { randomBytes } = await import("node:crypto");
  const accept = { Accept: MANIFEST_TYPE };
  const rows = {};
  const failures = [];
  const measure = async (key, label, fn, pushed) => {
    try {
      rows[key] = { label, ...(pushed != null ? { push: true, blobBytes: pushed } : {}), ...opsOf(await fn()) };
    } catch (e) {
      rows[key] = { label, error: e.message.split("\n")[0], steps: [] };
      failures.push(`"${label}": ${rows[key].error}`);
    }
  };
  const monolithic = (repo, blob) =>
    stepped("POST ?digest", `${base}/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: blob.body,
    }, 201);

  // seed the small image; the monolithic POSTs are measured too (with POST+PATCH+PUT as a fallback for seeding)
  await measure("monolithicSmall", `blob push, monolithic POST ?digest= (${layer.body.length} B)`, async () => [await monolithic(SMALL_REPO, layer)], layer.body.length);
  const seedOne = async (blob) => {
    try {
      await monolithic(SMALL_REPO, blob);
    } catch {
      await pushSteps(base, SMALL_REPO, blob.body, blob.digest).catch((e) =>
        failures.push(`seeding ${blob.digest.slice(0, 19)}: ${e.message.split("\n")[0]}`),
      );
    }
  };
  if (rows.monolithicSmall.error) await seedOne(layer);
  await seedOne(config);
  await measure("manifestPut", `manifest PUT by tag (${SMALL.manifest.length} B)`, async () => [
    await stepped("PUT manifest", `${base}/v2/${SMALL_REPO}/manifests/latest`, { method: "PUT", headers: { "Content-Type": MANIFEST_TYPE }, body: SMALL.manifest }, 201),
  ], SMALL.manifest.length);

  await measure("manifestGetTag", "manifest GET by tag", async () => [await stepped("GET", `${base}/v2/${SMALL_REPO}/manifests/latest`, { headers: accept }, 200)]);
  await measure("manifestGetDigest", "manifest GET by digest", async () => [
    await stepped("GET", `${base}/v2/${SMALL_REPO}/manifests/${SMALL.manifestDigest}`, { headers: accept }, 200),
  ]);
  await measure("manifestHeadDigest", "manifest HEAD by digest", async () => [
    await stepped("HEAD", `${base}/v2/${SMALL_REPO}/manifests/${SMALL.manifestDigest}`, { method: "HEAD", headers: accept }, 200),
  ]);
  await measure("blobGetSmall", `blob GET (small, ${layer.body.length} B)`, async () => [await stepped("GET", `${base}/v2/${SMALL_REPO}/blobs/${layer.digest}`, {}, 200)]);
  await measure("blobHeadSmall", "blob HEAD (small)", async () => [await stepped("HEAD", `${base}/v2/${SMALL_REPO}/blobs/${layer.digest}`, { method: "HEAD" }, 200)]);

  const one = randomBytes(CFG.pushBlobSize);
  await measure("blobPush", `blob push POST+PATCH+PUT (${CFG.pushBlobSize / MiB} MiB, Content-Length)`, () => pushSteps(base, "bench/ops", one, sha256(one)), one.length);
  const big = randomBytes(CFG.chunkedSize);
  await measure("blobPushChunked", `blob push POST+PATCH+PUT (${CFG.chunkedSize / MiB} MiB, chunked PATCH)`, () => pushSteps(base, "bench/ops", big, sha256(big), { chunked: true }), big.length);

  // whole image: config + 3 layers (POST/PATCH/PUT each) + manifest PUT
  const layers = [0, 1, 2].map(() => {
    const b = randomBytes(CFG.imageLayerSize);
    return { body: b, digest: sha256(b) };
  });
  const cfgBody = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } }));
  const cfgBlob = { body: cfgBody, digest: sha256(cfgBody) };
  const manifest = manifestFor(cfgBlob, layers);
  await measure(
    "imagePush",
    `image push (config + 3 x ${CFG.imageLayerSize / MiB} MiB layers + manifest)`,
    async () => {
      const steps = [];
      for (const b of [cfgBlob, ...layers]) steps.push(...(await pushSteps(base, "bench/image3", b.body, b.digest)));
      steps.push(
        await stepped("PUT manifest", `${base}/v2/bench/image3/manifests/v1`, { method: "PUT", headers: { "Content-Type": MANIFEST_TYPE }, body: manifest }, 201),
      );
      return steps;
    },
    cfgBody.length + layers.reduce((a, l) => a + l.body.length, 0) + manifest.length,
  );

  if (failures.length) {
    const log = children.oursMetrics.cp.tail;
    const cause = /message: '([^']+)'/.exec(log)?.[1] ?? /Error[^\n]*/.exec(log)?.[0] ?? "no error in its log";
    anomaly(
      `ours (metrics on, STORAGE_METRICS=on): ${failures.length} request sequences failed (measured rows failed: ${Object.values(rows).filter((r) => r.error).length} of ${Object.keys(rows).length}); first: ${failures[0]}; runtime log: ${cause}`,
    );
    say(`  ${failures.length} failures; last lines of the metrics instance's log:\n${log.trim().split("\n").slice(-12).map((l) => `    ${l}`).join("\n")}`);
    results.storageOpsFailures = { failures, log };
  }
  for (const r of Object.values(rows)) {
    if (r.error) continue;
    if (!r.present) anomaly(`ours (metrics on): no X-Storage-Ops header on "${r.label}"`);
    if (r.push) {
      r.writtenRatio = r.written / r.blobBytes;
      // a push of >= 1 MiB must write its bytes once and read none back; small fixed costs (upload state,
      // records of a few hundred bytes) are reported as notes, they dominate only tiny blobs and manifests
      const isBig = r.blobBytes >= MiB;
      if (r.present && r.writtenRatio > 1.01)
        (isBig ? anomaly : note)(`ours: ${r.label}: wrote ${r.writtenRatio.toFixed(3)}x the pushed bytes (${fmtInt(r.written - r.blobBytes)} B extra; target 1.0)`);
      if (r.present && r.read > 0)
        (isBig && r.read > r.blobBytes / 100 ? anomaly : note)(`ours: ${r.label}: read ${fmtInt(r.read)} B from R2 during the push (target 0)`);
    }
  }
  await stopChild(children.oursMetrics.cp);
  children.oursMetrics = null;
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// 8. Pull-through mirror
// ---------------------------------------------------------------------------------------------------------

const MIRROR_REPO = "library/mirrorbench";
const MIRROR_TAG = "1";
const UPSTREAM_REQUEST = /"(GET|HEAD) \/v2\//;

/** `... "GET /v2/library/mirrorbench/blobs/sha256:<64 hex> HTTP/1.1" 200 ...` -> `GET blobs/sha256:0123456789ab 200` */
function shortAccessLine(line) {
  const m = /"(\w+) \/v2\/(\S*) HTTP\/[\d.]+" (\d+)/.exec(line);
  if (!m) return line.slice(0, 120);
  return `${m[1]} ${m[2].replace(`${MIRROR_REPO}/`, "").replace(/(sha256:[0-9a-f]{12})[0-9a-f]+/, "$1")} ${m[3]}`;
}

/**
 * Requests the upstream logged since `mark` (index into its access log), after `settleMs` (distribution logs a
 * request once its response is sent; a mirror fill may still be running after the client has its response).
 */
async function upstreamSince(upstream, mark, settleMs = 300) {
  if (settleMs) await sleep(settleMs);
  const lines = upstream.accessLog.slice(mark).filter((l) => UPSTREAM_REQUEST.test(l));
  return { count: lines.length, requests: lines.map(shortAccessLine) };
}

/** `GET blobs/sha256:0123 200 x4, HEAD manifests/1 200`: the same request line counted. */
function summarizeRequests(requests) {
  const counts = new Map();
  for (const r of requests) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => (n > 1 ? `${r} x${n}` : r)).join(", ");
}

/** Bytes of all files under a directory (the local R2 simulator's files, for a fill's bytes written). */
function duBytes(dir) {
  let total = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          total += statSync(p).size;
        } catch {
          /* vanished */
        }
      }
    }
  };
  walk(dir);
  return total;
}

/** Did a skopeo dir: pull get the config and every layer, at their sizes? */
function pulledImageOk(dir, img) {
  const files = new Map(dirFiles(dir).map((x) => [x.f, x.size]));
  return [img.config, ...img.layers].every((b) => files.get(b.digest.slice(7)) === b.size);
}

/**
 * One pull of the image into a fresh dir: (mirror or distribution) with skopeo; `upstream` given: also the
 * upstream requests it caused.
 */
async function mirrorSkopeoPull(host, label, img, upstream, settleMs) {
  const dir = path.join(TMP, `mirror-pull-${label}`);
  rmSync(dir, { recursive: true, force: true });
  const mark = upstream?.accessLog.length;
  const r = await run("skopeo", ["copy", "--src-tls-verify=false", `docker://${host}/${MIRROR_REPO}:${MIRROR_TAG}`, `dir:${dir}`], {
    timeoutMs: 300_000,
  });
  const ok = r.code === 0 && pulledImageOk(dir, img);
  rmSync(dir, { recursive: true, force: true });
  const error = r.code !== 0 ? (r.stderr || r.stdout).trim().slice(-500) : ok ? null : "pulled config/layers missing or of the wrong size";
  return { ms: ok ? r.ms : null, error, upstream: upstream ? await upstreamSince(upstream, mark, settleMs) : undefined };
}

/**
 * Replays a pull as raw HTTP requests on the metrics-on mirror: GET /v2/, manifest GET by tag (OCI Accept), then
 * config + layer blob GETs; X-Storage-Ops of each, upstream requests of each (after `settleMs`) and of all.
 */
async function replayPull(base, img, upstream, { settleMs, perRequestSettleMs }) {
  const mark = upstream.accessLog.length;
  const rows = [];
  const one = async (key, label, url, opts, check) => {
    const m = upstream.accessLog.length;
    const r = await request(url, { timeoutMs: 300_000, ...opts });
    expectStatus(r, 200, `mirror ${label}`);
    check?.(r);
    const up = await upstreamSince(upstream, m, perRequestSettleMs);
    rows.push({ key, label, status: r.status, ms: r.ms, size: r.size, ...parseStorageOps(r.headers["x-storage-ops"]), upstream: up.count, upstreamRequests: up.requests });
  };
  await one("ping", "GET /v2/ (ping)", `${base}/v2/`, {});
  await one("manifest", "manifest GET by tag", `${base}/v2/${MIRROR_REPO}/manifests/${MIRROR_TAG}`, { headers: { Accept: MANIFEST_TYPE } }, (r) => {
    const dcd = r.headers["docker-content-digest"];
    if (dcd && dcd !== img.servedManifestDigest) throw new Error(`mirror manifest GET: Docker-Content-Digest ${dcd}, expected ${img.servedManifestDigest}`);
    if (sha256(r.body) !== img.servedManifestDigest) throw new Error(`mirror manifest GET: body digest ${sha256(r.body)}, expected ${img.servedManifestDigest}`);
  });
  const blobs = [
    { key: "config", label: `blob GET config (${fmtInt(img.config.size)} B)`, ...img.config },
    ...img.layers.map((l, i) => ({ key: `layer${i + 1}`, label: `blob GET layer ${i + 1} (${fmtMiB(l.size)})`, ...l })),
  ];
  for (const b of blobs) {
    await one(b.key, b.label, `${base}/v2/${MIRROR_REPO}/blobs/${b.digest}`, { keepBody: b.size < MiB }, (r) => {
      if (r.size !== b.size) throw new Error(`mirror blob GET ${b.key}: ${r.size} bytes, expected ${b.size}`);
      if (b.size < MiB && sha256(r.body) !== b.digest) throw new Error(`mirror blob GET ${b.key}: wrong bytes`);
    });
  }
  const pull = rows.filter((r) => r.key !== "ping");
  const total = pull.reduce((a, r) => addOps(a, r), zeroOps());
  const all = await upstreamSince(upstream, mark, settleMs);
  return { rows, total: { ...total, upstream: all.count, upstreamRequests: all.requests } };
}

/**
 * 8. The pull-through mirror: a docker-registry upstream (a second process on the main distribution's storage,
 * with its access log on), seeded with library/mirrorbench:1 (config + 3 layers) by skopeo; a mirror of ours in
 * front of it. skopeo pulls uncached / cached / straight from distribution, manifest GET req/s, and (on a
 * metrics-on mirror) the storage operations and upstream requests of an uncached and a cached pull.
 */
async function mirrorBench(dist) {
  const t0 = performance.now();
  try {
    const r = await mirrorBenchRun(dist);
    r.sectionMs = performance.now() - t0;
    return r;
  } finally {
    for (const f of stopOnError.splice(0)) f();
  }
}
const stopOnError = [];

async function mirrorBenchRun(dist) {
  const res = { image: {}, runs: [] };
  const mirrorPeaks = [];
  let t = performance.now();

  // the image: 3 layers, 1/2 + 1/3 + 1/6 of BENCH_MIRROR_MIB
  const sizes = [Math.round(CFG.mirrorSize / 2), Math.round(CFG.mirrorSize / 3)];
  sizes.push(CFG.mirrorSize - sizes[0] - sizes[1]);
  const img = await imageLayout(path.join(TMP, "mirror-layout"), sizes, MIRROR_TAG);
  const upstream = await startDistribution({ label: "upstream", root: dist.root, accessLog: true });
  children.upstream = upstream.cp;
  const push = await run("skopeo", ["copy", "--dest-tls-verify=false", `oci:${img.dir}:${MIRROR_TAG}`, `docker://${upstream.host}/${MIRROR_REPO}:${MIRROR_TAG}`], {
    timeoutMs: 300_000,
  });
  if (push.code !== 0) throw new Error(`skopeo push of ${MIRROR_REPO}:${MIRROR_TAG} to the upstream failed: ${(push.stderr || push.stdout).trim().slice(-400)}`);
  // the digest the upstream serves (skopeo keeps the layout's manifest as is unless it has to convert it)
  const head = expectStatus(
    await request(`${dist.base}/v2/${MIRROR_REPO}/manifests/${MIRROR_TAG}`, { method: "HEAD", headers: { Accept: MANIFEST_TYPE } }),
    200,
    "distribution: HEAD of the seeded manifest",
  );
  img.servedManifestDigest = head.headers["docker-content-digest"] ?? img.manifestDigest;
  if (img.servedManifestDigest !== img.manifestDigest) note(`mirror: skopeo rewrote the manifest on push (${img.manifestDigest} -> ${img.servedManifestDigest})`);
  res.image = { repo: `${MIRROR_REPO}:${MIRROR_TAG}`, layers: img.layers, config: img.config, manifestDigest: img.servedManifestDigest, totalSize: img.totalSize };
  res.prepareMs = performance.now() - t;
  res.seedPushMs = push.ms;
  say(`  image ${MIRROR_REPO}:${MIRROR_TAG}: config + ${img.layers.length} layers (${img.layers.map((l) => fmtMiB(l.size)).join(" + ")}), written and pushed to the upstream ${upstream.base} in ${fmtS(res.prepareMs)} (skopeo push ${fmtS(push.ms)})`);

  // the mirror (metrics off) for the timings
  const mirrorEnv = {
    MIRROR_UPSTREAMS: JSON.stringify({ "docker.io": { url: upstream.base, libraryPrefix: true } }),
    MIRROR_DEFAULT_UPSTREAM: "docker.io",
    MIRROR_TAG_TTL: String(CFG.mirrorTagTtl),
    MIRROR_RATE_LIMIT: "1000000",
  };
  t = performance.now();
  const m = await startOurs("mirror", { env: mirrorEnv });
  children.mirror = m.cp;
  if (!m.mirror) throw new Error("scripts/start.mjs printed no mirror URL");
  await waitForV2(m.mirror);
  say(`  mirror of ours at ${m.mirror} (fresh state, TAG_TTL ${CFG.mirrorTagTtl} s): started in ${fmtS(performance.now() - t)}`);
  const rss = sampleRss(m.cp.pid, 100);
  stopOnError.push(() => rss.stop());

  // uncached: the first pull fills the cache
  const uncached = await mirrorSkopeoPull(m.mirrorHost, "uncached", img, upstream, 1500);
  res.uncached = uncached;
  if (uncached.error) throw new Error(`skopeo pull through the mirror (uncached) failed: ${uncached.error}`);
  const blobGets = uncached.upstream.requests.filter((r) => r.startsWith("GET blobs/"));
  if (new Set(blobGets).size < blobGets.length) anomaly(`mirror: uncached pull fetched a blob more than once from the upstream: ${summarizeRequests(uncached.upstream.requests)}`);
  mirrorPeaks.push(["uncached pull", rss.mark()]);

  // cached vs straight from distribution, alternating which goes first
  for (let i = 0; i < CFG.mirrorRuns; i++) {
    const r = { run: i + 1 };
    const order = i % 2 === 0 ? ["cached", "direct"] : ["direct", "cached"];
    for (const k of order) {
      r[k] = k === "cached" ? await mirrorSkopeoPull(m.mirrorHost, `cached-${i}`, img, upstream, 300) : await mirrorSkopeoPull(dist.host, `direct-${i}`, img, null);
      if (r[k].error) anomaly(`mirror: skopeo pull ${k === "cached" ? "through the mirror (cached)" : "straight from distribution"} run ${i + 1} failed: ${r[k].error}`);
    }
    if (r.cached.upstream?.count) anomaly(`mirror: cached pull run ${i + 1} made ${r.cached.upstream.count} upstream requests within TAG_TTL (target 0): ${summarizeRequests(r.cached.upstream.requests)}`);
    res.runs.push(r);
  }
  mirrorPeaks.push(["cached pulls", rss.mark()]);
  const stats = (xs) => {
    const v = xs.filter((x) => x != null).sort((a, b) => a - b);
    return { bestMs: v.length ? v[0] : null, medianMs: v.length ? v[Math.floor((v.length - 1) / 2)] : null, runsMs: xs };
  };
  res.cached = { ...stats(res.runs.map((r) => r.cached.ms)), upstream: res.runs.reduce((a, r) => a + (r.cached.upstream?.count ?? 0), 0) };
  res.direct = stats(res.runs.map((r) => r.direct.ms));

  // manifest GET by tag under load: the mirror (cached tag) vs distribution
  const manifestPath = `/v2/${MIRROR_REPO}/manifests/${MIRROR_TAG}`;
  res.manifestLoad = {};
  for (const [name, base] of [
    ["ours", m.mirror],
    ["distribution", dist.base],
  ]) {
    const probe = await request(base + manifestPath, { headers: { Accept: MANIFEST_TYPE } });
    if (probe.status !== 200) anomaly(`${name === "ours" ? "mirror" : "distribution"}: manifest GET of ${MIRROR_REPO}:${MIRROR_TAG} answers HTTP ${probe.status}`);
    const mark = upstream.accessLog.length;
    await wrk(base + manifestPath, { seconds: CFG.mirrorWrkWarmupSeconds });
    const w = await wrk(base + manifestPath, { seconds: CFG.mirrorWrkSeconds });
    if (name === "ours") {
      w.upstream = await upstreamSince(upstream, mark);
      if (w.upstream.count) anomaly(`mirror: ${w.upstream.count} upstream requests during the manifest GET load on a cached tag (target 0): ${summarizeRequests(w.upstream.requests)}`);
    }
    if (w.non2xx || w.socketErrors)
      anomaly(`${name === "ours" ? "mirror" : "distribution"}: manifest GET under wrk: ${w.non2xx} non-2xx responses, ${w.socketErrors} socket errors${w.socketErrorsDetail ? ` (${w.socketErrorsDetail}; wrk's timeout is 2 s)` : ""}, p99 ${fmtMs(w.p99)}`);
    if (!w.requests) anomaly(`${name === "ours" ? "mirror" : "distribution"}: manifest GET under wrk: no request completed`);
    res.manifestLoad[name] = w;
  }
  mirrorPeaks.push(["manifest GET load", rss.mark()]);
  const peak = rss.stop();
  res.mirrorPeakRss = { peak: peak.peak, byName: peak.peakByName, perStep: Object.fromEntries(mirrorPeaks.map(([k, v]) => [k, v.peak])) };
  await stopChild(m.cp);
  children.mirror = null;
  rmSync(m.stateDir, { recursive: true, force: true });

  // storage operations: a metrics-on mirror (fresh state); an uncached replay fills it, then a cached replay
  const mm = await startOurs("mirror-metrics", { metrics: true, env: mirrorEnv });
  children.mirrorMetrics = mm.cp;
  if (!mm.mirror) throw new Error("scripts/start.mjs printed no mirror URL (metrics instance)");
  await waitForV2(mm.mirror);
  const r2Dir = path.join(mm.stateDir, "r2");
  const diskBefore = duBytes(r2Dir);
  try {
    res.opsUncached = await replayPull(mm.mirror, img, upstream, { settleMs: 1500, perRequestSettleMs: 0 });
    res.opsUncached.r2DiskBytes = duBytes(r2Dir) - diskBefore;
    res.opsCached = await replayPull(mm.mirror, img, upstream, { settleMs: 300, perRequestSettleMs: 150 });
    // reference for the fill rate: the same layer pushed to the registry of the same system (same workerd, same
    // R2 simulator), one monolithic POST ?digest= from the file
    const l1 = img.layers[0];
    const ref = await pushBlob(mm.base, "bench/mirror-ref", l1.digest, { file: path.join(img.dir, "blobs", "sha256", l1.digest.slice(7)) }, "post", 300_000);
    res.refPush = { size: l1.size, ms: ref.ms, rate: l1.size / (ref.ms / 1000) };
  } catch (e) {
    const log = mm.cp.tail;
    const cause = /message: '([^']+)'/.exec(log)?.[1] ?? /Error[^\n]*/.exec(log)?.[0];
    throw new Error(`${e.message}${cause ? `; mirror log: ${cause}` : ""}`);
  }
  await stopChild(mm.cp);
  children.mirrorMetrics = null;
  await stopChild(upstream.cp);
  children.upstream = null;
  rmSync(img.dir, { recursive: true, force: true });

  const c = res.opsCached;
  for (const r of [...c.rows, ...res.opsUncached.rows]) if (!r.present) anomaly(`mirror (metrics on): no X-Storage-Ops header on "${r.label}"`);
  if (c.total.written > 0 || c.total.classA > 0)
    anomaly(`mirror: a cached pull wrote to R2: ${c.total.classA} class A operations, ${fmtInt(c.total.written)} B (target 0): ${c.rows.filter((r) => r.classA || r.written).map((r) => r.label).join(", ")}`);
  if (c.total.upstream > 0) anomaly(`mirror: the cached replay made ${c.total.upstream} upstream requests (target 0 within TAG_TTL): ${summarizeRequests(c.total.upstreamRequests)}`);
  const fillRatio = res.opsUncached.r2DiskBytes / img.totalSize;
  if (fillRatio > 1.05) anomaly(`mirror: the uncached pull (fill) grew the R2 simulator's files by ${fillRatio.toFixed(2)}x the image's bytes (target ~1.00)`);
  // a fill is a push whose source is a fast upstream: it should run at about the push rate of the same system
  const fill = res.opsUncached.rows.find((x) => x.key === "layer1");
  res.fillRate = fill ? fill.size / (fill.ms / 1000) : null;
  res.uncachedPullRate = img.totalSize / (res.uncached.ms / 1000);
  if (res.fillRate && res.refPush.rate && (res.fillRate < res.refPush.rate / 1.5 || res.uncachedPullRate < res.refPush.rate / 1.5))
    anomaly(
      `mirror: the cache fill is slower than a push of the same bytes to the registry of the same system (${fmtRate(res.refPush.rate)}, same workerd and R2 simulator): ` +
        `uncached blob GET of the ${fmtMiB(fill.size)} layer alone ${fmtRate(res.fillRate)} (${fmtRatio(res.refPush.rate / res.fillRate)}x slower), ` +
        `uncached skopeo pull (3 layers at once) ${fmtRate(res.uncachedPullRate)} (${fmtRatio(res.refPush.rate / res.uncachedPullRate)}x slower)`,
    );
  const ol = res.manifestLoad.ours;
  if (ol?.p99 > 500)
    anomaly(`mirror: manifest GET by tag under wrk -c16: p99 ${fmtMs(ol.p99)} (p50 ${fmtMs(ol.p50)}, p90 ${fmtMs(ol.p90)}; distribution p99 ${fmtMs(res.manifestLoad.distribution?.p99)})`);
  return res;
}

/** 8. Runs mirrorBench as a section and prints it. */
async function mirrorSection(dist) {
  const mib = `${fmtInt(CFG.mirrorSize / MiB)} MiB`;
  say(heading("8. pull-through mirror", `upstream: docker-registry (distribution) with ${MIRROR_REPO}:${MIRROR_TAG} = config + 3 layers, ${mib} in all (pushed by skopeo);
mirror: ours (scripts/start.mjs, MIRROR_UPSTREAMS = that upstream as docker.io, TAG_TTL ${CFG.mirrorTagTtl} s), fresh state;
skopeo copy --src-tls-verify=false docker://<host>/${MIRROR_REPO}:${MIRROR_TAG} dir:<fresh tmp>, wall time:
uncached = first pull through the mirror (fills its cache), once; cached = through the mirror again, and
direct = straight from distribution, ${CFG.mirrorRuns} runs each, alternating (best, median [all]); ratio = mirror / distribution`));
  const r = await section("mirror", () => mirrorBench(dist), () => children.mirrorMetrics?.tail ?? children.mirror?.tail);
  if (!r) return null;
  const na = "n/a";
  const runsStr = (xs) => xs.map((x) => (x == null ? "fail" : fmtS(x))).join(", ");
  const bm = (s) => `${fmtS(s.bestMs)} (median ${fmtS(s.medianMs)})`;
  const upStr = (u) => (u == null ? "" : ` (upstream requests: ${u})`);
  say(row(`skopeo pull ${mib}, uncached (fill)`, `${fmtS(r.uncached.ms)}${upStr(r.uncached.upstream.count)}`, `direct, best ${fmtS(r.direct.bestMs)}`, ratio(r.uncached.ms, r.direct.bestMs)));
  say(row(`skopeo pull ${mib}, cached (best)`, `${bm(r.cached)}`, `direct ${bm(r.direct)}`, ratio(r.cached.bestMs, r.direct.bestMs)));
  say(`  all runs: cached [${runsStr(r.cached.runsMs)}], direct [${runsStr(r.direct.runsMs)}]; median ratio ${fmtRatio(ratio(r.cached.medianMs, r.direct.medianMs))}`);
  say(`  upstream requests: uncached pull ${r.uncached.upstream.count} (${summarizeRequests(r.uncached.upstream.requests) || "none"}); cached pulls ${r.runs.map((x) => x.cached.upstream?.count ?? "?").join(", ")}`);
  const wrkStr = (w) => (w ? `${fmtInt(w.rps)} req/s p50 ${fmtMs(w.p50)} p99 ${fmtMs(w.p99)}` : na);
  const ml = r.manifestLoad;
  say(row(`manifest GET by tag (wrk -c16 ${CFG.mirrorWrkSeconds}s)`, wrkStr(ml.ours), wrkStr(ml.distribution), ratio(ml.ours?.rps, ml.distribution?.rps)));
  say(`  mirror: cached tag ${MIRROR_REPO}:${MIRROR_TAG}, after a ${CFG.mirrorWrkWarmupSeconds}s warm-up; upstream requests during the load: ${ml.ours?.upstream?.count ?? "?"}`);
  const pk = r.mirrorPeakRss;
  say(`  mirror instance peak RSS ${fmtMiB(pk.peak)} (${byName(pk.byName)}); ${Object.entries(pk.perStep).map(([k, v]) => `${k} ${fmtMiB(v)}`).join(", ")}`);

  // storage operations
  say(`\n  storage operations of a pull (metrics-on mirror, fresh state; raw HTTP: GET /v2/, manifest GET by tag with
  Accept: ${MANIFEST_TYPE}, config + 3 layer blob GETs), from X-Storage-Ops per request;
  upstream = requests in the upstream's access log ("GET /v2/ or "HEAD /v2/) while it ran`);
  const c = r.opsCached;
  const u = r.opsUncached;
  const tbl = [["cached pull (target: no writes, no upstream)", "DO", "class A", "class B", "bytes written", "bytes read", "upstream"]];
  for (const x of c.rows) tbl.push([x.label, fmtInt(x.doCalls ?? 0), fmtInt(x.classA), fmtInt(x.classB), fmtInt(x.written), fmtInt(x.read), fmtInt(x.upstream)]);
  tbl.push(["total (manifest + config + 3 layers)", fmtInt(c.total.doCalls ?? 0), fmtInt(c.total.classA), fmtInt(c.total.classB), fmtInt(c.total.written), fmtInt(c.total.read), fmtInt(c.total.upstream)]);
  tbl.push([
    "uncached pull (fill), total, same requests",
    fmtInt(u.total.doCalls ?? 0),
    fmtInt(u.total.classA),
    fmtInt(u.total.classB),
    fmtInt(u.total.written),
    fmtInt(u.total.read),
    fmtInt(u.total.upstream),
  ]);
  say(table(tbl).replace(/^/gm, "  "));
  say(`  uncached: the R2 simulator's files grew by ${fmtInt(u.r2DiskBytes)} B for ${fmtInt(r.image.totalSize)} B of blobs (${(u.r2DiskBytes / r.image.totalSize).toFixed(3)}x);
  X-Storage-Ops is set when a response starts, so a fill streamed to the client and the cache at once (waitUntil)
  shows its R2 writes on disk, not in the header; upstream requests: ${summarizeRequests(u.total.upstreamRequests) || "none"}`);
  const times = (x) => x.rows.filter((y) => y.key !== "ping").map((y) => `${y.key} ${fmtS(y.ms)}${y.size >= MiB ? ` (${fmtRate(y.size / (y.ms / 1000))})` : ""}`).join(", ");
  say(`  time per request (raw HTTP, one at a time): uncached ${times(u)}\n    cached ${times(c)}`);
  say(`  uncached rate: skopeo pull ${fmtRate(r.uncachedPullRate)}, blob GET of layer 1 alone ${fmtRate(r.fillRate)}`);
  say(`  reference: the same ${fmtMiB(r.refPush.size)} layer pushed to the registry of that system (monolithic POST, same workerd and R2 simulator): ${fmtRate(r.refPush.rate)} (${fmtS(r.refPush.ms)})`);
  say(`  section 8 took ${fmtS(r.sectionMs)}`);
  return r;
}

/** Rows of section 8 for the summary table. */
function mirrorSummaryRows(r) {
  const na = "n/a";
  const mib = `${fmtInt(CFG.mirrorSize / MiB)} MiB`;
  const rr = (a, b) => fmtRatio(ratio(a, b));
  const c = r.opsCached.total;
  return [
    [`mirror: skopeo pull ${mib}, uncached (vs direct)`, fmtS(r.uncached.ms), fmtS(r.direct.bestMs), rr(r.uncached.ms, r.direct.bestMs)],
    [`mirror: skopeo pull ${mib}, cached (vs direct, best)`, fmtS(r.cached.bestMs), fmtS(r.direct.bestMs), rr(r.cached.bestMs, r.direct.bestMs)],
    [`mirror: manifest GET by tag, req/s (wrk)`, fmtInt(r.manifestLoad.ours?.rps), fmtInt(r.manifestLoad.distribution?.rps), rr(r.manifestLoad.ours?.rps, r.manifestLoad.distribution?.rps)],
    [`mirror: cached pull, storage ops`, `DO ${c.doCalls ?? "n/a"}, A ${c.classA}, B ${c.classB}`, na, ""],
    [`mirror: cached pull, bytes written, upstream reqs`, `${fmtInt(c.written)} B, ${c.upstream}`, na, ""],
  ];
}

/**
 * Runs one section: a failure is printed and recorded (with the tail of our system's log) and the run goes on.
 * Returns the section's result, or null if it failed.
 */
async function section(key, fn, logOf = () => null) {
  try {
    const r = await fn();
    results.sections[key] = r;
    return r;
  } catch (e) {
    const log = logOf();
    say(`  FAILED: ${e.message}`);
    if (log) say(`  last lines of our system's log:\n${log.trim().split("\n").slice(-15).map((l) => `    ${l}`).join("\n")}`);
    results.sections[key] = { error: e.message, log };
    anomaly(`section "${key}" failed: ${e.message.split("\n")[0]}`);
    return null;
  }
}

async function main() {
  const started = performance.now();
  await preflight();
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " (+ uncommitted changes)";
  } catch {
    /* not a git checkout */
  }
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
  say(heading("edge-registry benchmark", `ours = scripts/start.mjs (Node HTTP front + workerd, local R2 simulator on disk)
distribution = Debian docker-registry ${results.meta.distribution.split(" ").pop()} (filesystem storage), both on 127.0.0.1
commit ${commit}, node ${process.version}, ${os.cpus().length} cpus, load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}
ratio = ours / distribution (for req/s and MB/s higher is better; for times and memory lower is better)
units: MB/s = 10^6 bytes/s, memory in MiB`));

  if (ONLY) say(`BENCH_ONLY: sections ${[...ONLY].sort().join(", ")}`);
  // the main instance of ours serves sections 1-5; distribution (main) serves every section
  const mainNeeded = [1, 2, 3, 4, 5].some(want);

  // data
  say(`\npreparing data in ${TMP} ...`);
  let t = performance.now();
  const big = want(1) ? await randomFile(path.join(TMP, "big.bin"), CFG.bigSize) : null;
  const mem = want(6) ? await randomFile(path.join(TMP, "mem.bin"), CFG.memSize) : null;
  const layouts = [];
  if (want(4)) for (let i = 0; i < CFG.skopeoRuns; i++) layouts.push(await bigLayout(path.join(TMP, `layout-${i}`), CFG.bigSize, "t"));
  const prepared = [big && `${BIG_LABEL} blob`, mem && `${MEM_LABEL} blob`, layouts.length && `${layouts.length} OCI layouts with a ${BIG_LABEL} gzip layer`].filter(Boolean);
  say(`  ${prepared.length ? prepared.join(", ") : "nothing (section 8 writes its own image)"}: ${fmtS(performance.now() - t)}`);

  // registries
  t = performance.now();
  const dist = await startDistribution();
  children.dist = dist.cp;
  const ours = mainNeeded ? await startOurs("main") : null;
  children.ours = ours?.cp ?? null;
  const regs = [ours, dist];
  const oursLog = () => ours?.cp.tail;
  say(`  started ${ours ? `ours at ${ours.base} and ` : ""}distribution at ${dist.base}: ${fmtS(performance.now() - t)}`);
  const runPeak = mainNeeded ? { ours: sampleRss(ours.cp.pid, 100), distribution: sampleRss(dist.cp.pid, 100) } : null;
  const sectionPeaks = {};
  const markPeaks = (key) => {
    sectionPeaks[key] = { ours: runPeak.ours.mark(), distribution: runPeak.distribution.mark() };
  };
  runPeak?.ours.mark();
  runPeak?.distribution.mark();
  const na = "n/a";
  let s1 = null;
  let s2 = null;
  let s3 = null;
  let s4 = null;
  let s5 = null;
  let s6 = null;
  let s7 = null;
  let s8 = null;
  let peakOurs = null;
  let peakDist = null;

  if (want(1)) {
  // 1. seed
  say(heading("1. seed", `small image ${SMALL_REPO}:latest (config + 1 layer + OCI manifest) and a ${BIG_LABEL} random blob in ${BLOB_REPO}`));
  s1 = await section(
    "seed",
    async () => {
      const r = {};
      for (const reg of regs) r[reg.name] = await seed(reg, big);
      return r;
    },
    oursLog,
  );
  markPeaks("seed");
  if (!s1) throw new Error("seeding failed: nothing to measure");
  say(`  push mode: ours ${s1.ours.mode === "post" ? "monolithic POST ?digest=" : "POST + PUT with body"}, distribution ${s1.distribution.mode === "post" ? "monolithic POST ?digest=" : "POST + PUT with body (2.8 ignores a body on POST)"}`);
  say(row(`${BIG_LABEL} blob push (one request, Node http)`, `${fmtRate(s1.ours.bigPushRate)} (${fmtS(s1.ours.bigPushMs)})`, `${fmtRate(s1.distribution.bigPushRate)} (${fmtS(s1.distribution.bigPushMs)})`, ratio(s1.ours.bigPushRate, s1.distribution.bigPushRate)));
  }

  // 2. manifests under load
  if (want(2)) {
  say(heading("2. manifest requests under load", `wrk -t2 -c16 -d${CFG.wrkSeconds}s --latency, Accept: ${MANIFEST_TYPE}, after a ${CFG.wrkWarmupSeconds}s warm-up each`));
  s2 = await section("manifests", () => manifestLoad(regs, dist), oursLog);
  markPeaks("manifests");
  const wrkStr = (w) => (w ? `${fmtInt(w.rps)} req/s p50 ${fmtMs(w.p50)} p99 ${fmtMs(w.p99)}` : na);
  if (s2) {
    say(row(`manifest GET by tag (wrk -c16 ${CFG.wrkSeconds}s)`, wrkStr(s2.getByTag.ours), wrkStr(s2.getByTag.distribution), ratio(s2.getByTag.ours.rps, s2.getByTag.distribution.rps)));
    const headTool = s2.headByDigest.ours.tool === "wrk" ? "wrk" : "node";
    say(row(`manifest HEAD by digest (${headTool} -c16 ${CFG.wrkSeconds}s)`, wrkStr(s2.headByDigest.ours), wrkStr(s2.headByDigest.distribution), ratio(s2.headByDigest.ours.rps, s2.headByDigest.distribution.rps)));
    if (s2.getByTagNode) {
      say(row(`manifest GET by tag (node -c16 ${CFG.wrkSeconds}s)`, wrkStr(s2.getByTagNode.ours), wrkStr(s2.getByTagNode.distribution), ratio(s2.getByTagNode.ours.rps, s2.getByTagNode.distribution.rps)));
      say(`  HEAD: ${s2.headTool}: 2 worker threads, 16 keep-alive connections, closed loop like wrk;
  the "node" GET row is the same generator on the GET, to set its figures against wrk's`);
    }
  }

  }

  // 3. blob GET
  if (want(3)) {
  say(heading(`3. blob GET of the ${BIG_LABEL} blob`, `curl -s -o /dev/null -w '%{speed_download} %{size_download} %{http_code}', best of ${CFG.curlRuns}; size must be exactly ${big.size} B`));
  s3 = await section(
    "blobGet",
    async () => {
      const r = await blobGet(regs, big);
      r.oursDirect = await blobGetDirect(ours, big);
      return r;
    },
    oursLog,
  );
  markPeaks("blob GET");
  const curlStr = (c) => (c ? `${fmtRate(c.best)} size ${c.sizeOk ? "ok" : "WRONG"}${c.contentEncoding ? ` enc=${c.contentEncoding}` : ""}` : na);
  if (s3) {
    say(row("blob GET", curlStr(s3.plain.ours), curlStr(s3.plain.distribution), ratio(s3.plain.ours.best, s3.plain.distribution.best)));
    say(row("blob GET, Accept-Encoding: gzip", curlStr(s3.acceptGzip.ours), curlStr(s3.acceptGzip.distribution), ratio(s3.acceptGzip.ours.best, s3.acceptGzip.distribution.best)));
    say(
      `${"blob GET, ours straight from workerd".padEnd(44)}ours ${s3.oursDirect.best == null ? `n/a (${s3.oursDirect.why ?? "failed"})` : fmtRate(s3.oursDirect.best)}` +
        `   (diagnostic: no Node front; vs through the front ${fmtRatio(ratio(s3.plain.ours.best, s3.oursDirect.best))}x)`,
    );
  }

  }

  // 4. skopeo push/pull
  if (want(4)) {
  say(heading(`4. skopeo copy of an image with a ${BIG_LABEL} layer`, `push: oci:<layout>:t -> docker://<host>/bench/big-rN:t (--dest-tls-verify=false); pull: docker://... -> dir:<tmp>
(--src-tls-verify=false); wall time, best of ${CFG.skopeoRuns} (fresh layer and repo per run)`));
  s4 = await section("skopeo", () => skopeoPushPull(regs, layouts), oursLog);
  markPeaks("skopeo");
  if (s4) {
    const allRuns = (name, k) => s4.runs.map((r) => (r[name][k] == null ? "fail" : fmtS(r[name][k]))).join(", ");
    say(row("skopeo push (best)", `${fmtS(s4.ours.pushBestMs)} [${allRuns("ours", "pushMs")}]`, `${fmtS(s4.distribution.pushBestMs)} [${allRuns("distribution", "pushMs")}]`, ratio(s4.ours.pushBestMs, s4.distribution.pushBestMs)));
    say(row("skopeo pull (best)", `${fmtS(s4.ours.pullBestMs)} [${allRuns("ours", "pullMs")}]`, `${fmtS(s4.distribution.pullBestMs)} [${allRuns("distribution", "pullMs")}]`, ratio(s4.ours.pullBestMs, s4.distribution.pullBestMs)));
  }

  }

  // 5. TLS fallback
  if (want(5)) {
  say(heading("5. TLS fallback", `skopeo inspect --tls-verify=false docker://<host>/${SMALL_REPO}:latest, ${CFG.inspectRuns} runs (a stall would show ~10 s)`));
  s5 = await section("inspect", () => skopeoInspect(regs), oursLog);
  markPeaks("inspect");
  const inspStr = (x) => (x?.medianMs == null ? "failed" : `median ${fmtS(x.medianMs)} max ${fmtS(x.maxMs)}`);
  if (s5) say(row("skopeo inspect", inspStr(s5.ours), inspStr(s5.distribution), ratio(s5.ours.medianMs, s5.distribution.medianMs)));
  }

  // main instance done: its whole-run peak memory, then stop it so it does not compete with section 6
  if (mainNeeded) {
  peakOurs = runPeak.ours.stop();
  peakDist = runPeak.distribution.stop();
  results.sections.runPeakRss = {
    ours: peakOurs.peak,
    oursByName: peakOurs.peakByName,
    distribution: peakDist.peak,
    perSection: Object.fromEntries(Object.entries(sectionPeaks).map(([k, v]) => [k, { ours: v.ours.peak, oursByName: v.ours.peakByName, distribution: v.distribution.peak }])),
  };
  await stopChild(ours.cp);
  children.ours = null;
  }

  // 6. memory
  if (want(6)) {
  say(heading(`6. resident memory during a ${MEM_LABEL} monolithic push`, `process-tree VmRSS sampled every 100 ms (ours: a fresh scripts/start.mjs child = node + workerd; bare R2: a one-line
Miniflare worker doing env.B.put(r.body) in its own process; distribution: the docker-registry process)
push: one request streamed from a file with Content-Length (ours: POST ?digest=; bare R2: PUT; distribution: POST + PUT)`));
  s6 = await section("memory", () => memory(dist, mem), () => children.oursMem?.cp.tail);
  const memStr = (m) =>
    !m ? na : m.error ? `FAILED (${m.error.slice(0, 60)})` : `peak ${fmtMiB(m.peakRss)} (idle ${fmtMiB(m.idleRss)}) ${fmtRate(m.rate)}`;
  if (s6) {
    say(row(`${MEM_LABEL} push: peak RSS, throughput`, memStr(s6.ours), memStr(s6.distribution), ratio(s6.ours.peakRss, s6.distribution.peakRss)));
    say(`${`${MEM_LABEL} bare R2 put (same runtime)`.padEnd(44)}bare R2 ${memStr(s6.bareR2)}`);
    say(`  ours vs bare R2 put: memory ${fmtRatio(ratio(s6.ours.peakRss, s6.bareR2.peakRss))}x, throughput ${fmtRatio(ratio(s6.ours.rate, s6.bareR2.rate))}x`);
    say(`  at the peak: ours ${byName(s6.ours.peakByName)}; bare R2 ${byName(s6.bareR2.peakByName)}`);
    say(`  bare R2 get of the same ${MEM_LABEL} object (curl, no front, no registry code): ${fmtRate(s6.bareR2.getRate)}`);
  }
  }
  if (mainNeeded) {
  say(`  peak RSS of the main instances during sections 1-5: ours ${fmtMiB(peakOurs.peak)} (${byName(peakOurs.peakByName)}), distribution ${fmtMiB(peakDist.peak)}`);
  say(`  per section, ours / distribution: ${Object.entries(sectionPeaks).map(([k, v]) => `${k} ${fmtMiB(v.ours.peak)} / ${fmtMiB(v.distribution.peak)}`).join(", ")}`);
  }

  // 7. storage ops
  if (want(7)) {
  say(heading("7. storage operations per request (ours, metrics-on instance; distribution: n/a)", "from X-Storage-Ops; DO = Durable Object calls, class A = R2 writes/lists, class B = R2 reads/heads;\npushes: written/pushed bytes (target 1.00) and bytes read (target 0)"));
  s7 = await section("storageOps", () => storageOps(), () => children.oursMetrics?.cp.tail);
  if (s7) {
    const hasDo = Object.values(s7).some((r) => r.doCalls != null);
    const tbl = [["request", ...(hasDo ? ["DO"] : []), "class A", "class B", "deletes", "bytes written", "bytes read", "written/pushed", "distribution"]];
    for (const r of Object.values(s7)) {
      if (r.error) {
        tbl.push([r.label, ...(hasDo ? [""] : []), "FAILED", "", "", "", "", "", na]);
        continue;
      }
      tbl.push([
        r.label,
        ...(hasDo ? [fmtInt(r.doCalls ?? 0)] : []),
        fmtInt(r.classA),
        fmtInt(r.classB),
        fmtInt(r.deletes),
        fmtInt(r.written),
        fmtInt(r.read),
        r.push ? r.writtenRatio.toFixed(3) : "",
        na,
      ]);
    }
    say(table(tbl));
    say(`  per step (${hasDo ? "DO / " : ""}class A / class B / deletes / written / read):`);
    for (const r of Object.values(s7)) {
      if (!r.steps || r.steps.length < 2) continue;
      const grouped = r.steps.map((x) => `${x.step} ${hasDo ? `${x.doCalls ?? 0}/` : ""}${x.classA}/${x.classB}/${x.deletes}/${fmtInt(x.written)}/${fmtInt(x.read)}`);
      say(`    ${r.label}:`);
      for (let i = 0; i < grouped.length; i += 4) say(`      ${grouped.slice(i, i + 4).join("  ")}`);
    }
  }

  }

  // 8. pull-through mirror
  if (want(8)) s8 = await mirrorSection(dist);

  // 9. hash throughput (no registry involved: core's resumable SHA-2 against libraries and native hashes)
  if (want(9)) {
    say(heading("9. hash throughput", "bench/hash.mjs: the resumable hashes of the upload path, in Node and workerd"));
    await section("hash", () => hashBench(say));
  }

  // summary
  results.meta.loadavgEnd = os.loadavg();
  results.meta.durationMs = performance.now() - started;
  say(heading("summary"));
  const rr = (a, b) => fmtRatio(ratio(a, b));
  const sumRows = [["workload", "ours", "distribution", "ratio"]];
  if (s2) {
    sumRows.push(["manifest GET by tag, req/s (wrk)", fmtInt(s2.getByTag.ours.rps), fmtInt(s2.getByTag.distribution.rps), rr(s2.getByTag.ours.rps, s2.getByTag.distribution.rps)]);
    sumRows.push([`manifest HEAD by digest, req/s (${s2.headByDigest.ours.tool})`, fmtInt(s2.headByDigest.ours.rps), fmtInt(s2.headByDigest.distribution.rps), rr(s2.headByDigest.ours.rps, s2.headByDigest.distribution.rps)]);
  }
  if (s3) {
    sumRows.push([`blob GET ${BIG_LABEL}`, fmtRate(s3.plain.ours.best), fmtRate(s3.plain.distribution.best), rr(s3.plain.ours.best, s3.plain.distribution.best)]);
    sumRows.push([`blob GET ${BIG_LABEL}, Accept-Encoding: gzip`, fmtRate(s3.acceptGzip.ours.best), fmtRate(s3.acceptGzip.distribution.best), rr(s3.acceptGzip.ours.best, s3.acceptGzip.distribution.best)]);
    sumRows.push([`blob GET ${BIG_LABEL}, ours without the front`, fmtRate(s3.oursDirect.best), na, ""]);
  }
  if (s4) {
    sumRows.push([`skopeo push, ${BIG_LABEL} layer`, fmtS(s4.ours.pushBestMs), fmtS(s4.distribution.pushBestMs), rr(s4.ours.pushBestMs, s4.distribution.pushBestMs)]);
    sumRows.push([`skopeo pull, ${BIG_LABEL} layer`, fmtS(s4.ours.pullBestMs), fmtS(s4.distribution.pullBestMs), rr(s4.ours.pullBestMs, s4.distribution.pullBestMs)]);
  }
  if (s5) sumRows.push(["skopeo inspect --tls-verify=false (median)", fmtS(s5.ours.medianMs), fmtS(s5.distribution.medianMs), rr(s5.ours.medianMs, s5.distribution.medianMs)]);
  if (s6) {
    sumRows.push([`${MEM_LABEL} push, peak RSS`, fmtMiB(s6.ours.peakRss), fmtMiB(s6.distribution.peakRss), rr(s6.ours.peakRss, s6.distribution.peakRss)]);
    sumRows.push([`${MEM_LABEL} push, throughput`, fmtRate(s6.ours.rate), fmtRate(s6.distribution.rate), rr(s6.ours.rate, s6.distribution.rate)]);
    sumRows.push([`${MEM_LABEL} bare R2 put: peak RSS, throughput`, `${fmtMiB(s6.bareR2.peakRss)}, ${fmtRate(s6.bareR2.rate)}`, na, ""]);
    sumRows.push([`${MEM_LABEL} bare R2 get (no front, no registry)`, fmtRate(s6.bareR2.getRate), na, ""]);
  }
  if (peakOurs) sumRows.push(["peak RSS over sections 1-5", fmtMiB(peakOurs.peak), fmtMiB(peakDist.peak), rr(peakOurs.peak, peakDist.peak)]);
  if (s7) {
    const opsStr = (r) => (r.error ? "FAILED" : `${r.doCalls != null ? `DO ${r.doCalls}, ` : ""}A ${r.classA}, B ${r.classB}`);
    const wrStr = (r) => (r.error ? "FAILED" : `${r.writtenRatio.toFixed(3)}, ${fmtInt(r.read)} B`);
    sumRows.push(["manifest GET by tag: storage ops", opsStr(s7.manifestGetTag), na, ""]);
    sumRows.push(["blob push 1 MiB: storage ops", opsStr(s7.blobPush), na, ""]);
    sumRows.push(["image push (3 layers): storage ops", opsStr(s7.imagePush), na, ""]);
    sumRows.push(["image push (3 layers): written/pushed, read", wrStr(s7.imagePush), na, ""]);
    sumRows.push([`chunked push ${CFG.chunkedSize / MiB} MiB: written/pushed, read`, wrStr(s7.blobPushChunked), na, ""]);
  }
  if (s8) sumRows.push(...mirrorSummaryRows(s8));
  say(table(sumRows));
  say(`\nload average at end ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}; total ${fmtS(results.meta.durationMs)}`);
  say(anomalies.length ? `\nanomalies (${anomalies.length}):\n${anomalies.map((a) => `  - ${a}`).join("\n")}` : "\nanomalies: none detected");
  if (notes.length) say(`\nnotes (small, expected-looking deviations):\n${notes.map((a) => `  - ${a}`).join("\n")}`);
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
