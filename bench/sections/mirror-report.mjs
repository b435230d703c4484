// 8. Pull-through mirror, the report: runs mirror.mjs as a section and prints its figures and summary rows.
import { byName, CFG, children, say, section } from "../lib/context.mjs";
import { MiB } from "../lib/files.mjs";
import { fmtInt, fmtMiB, fmtMs, fmtRate, fmtRatio, fmtS, heading, ratio, row, table } from "../lib/format.mjs";
import { MANIFEST_TYPE } from "../lib/http.mjs";
import { MIRROR_REPO, MIRROR_TAG, mirrorBench, summarizeRequests } from "./mirror.mjs";

/** 8. Runs mirrorBench as a section and prints it. */
export async function mirrorSection({ dist }) {
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
export function mirrorSummaryRows(r) {
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
