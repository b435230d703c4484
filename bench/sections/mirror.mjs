// 8. Pull-through mirror, the measurement: a docker-registry upstream (a second process on the main
// distribution's storage, with its access log on), seeded with library/mirrorbench:1 (config + 3 layers) by
// skopeo; a mirror of ours in front of it. skopeo pulls uncached / cached / straight from distribution, manifest
// GET req/s, and (on a metrics-on mirror) the storage operations and upstream requests of an uncached and a
// cached pull. Printed by mirror-report.mjs.
import { rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { anomaly, CFG, children, note, say, TMP } from "../lib/context.mjs";
import { dirFiles, duBytes, imageLayout, MiB, sha256 } from "../lib/files.mjs";
import { fmtInt, fmtMiB, fmtMs, fmtRate, fmtRatio, fmtS } from "../lib/format.mjs";
import { addOps, expectStatus, MANIFEST_TYPE, parseStorageOps, pushBlob, request, waitForV2, zeroOps } from "../lib/http.mjs";
import { run, sampleRss, stopChild } from "../lib/proc.mjs";
import { startDistribution, startOurs } from "../lib/systems.mjs";
import { wrk } from "../lib/wrk.mjs";

export const MIRROR_REPO = "library/mirrorbench";
export const MIRROR_TAG = "1";
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
export function summarizeRequests(requests) {
  const counts = new Map();
  for (const r of requests) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => (n > 1 ? `${r} x${n}` : r)).join(", ");
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
export async function mirrorBench(dist) {
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

