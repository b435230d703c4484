// 10. Manifest GET by tag and HEAD by digest at 16 clients, against the runtime's ceiling: ours with token auth
// as deployed (an anonymous pull's Bearer token) through the edge path (a plain request) and through the origin
// path (`Cache-Control: no-cache`: read through the repository's Durable Object, the previous design),
// distribution, and the ceiling (bench/ceiling.mjs: the same manifest bytes from memory, same runtime, same front).
import { anomaly, CFG, children, NA, say, section, SMALL, TARGETS, targetMissed } from "../lib/context.mjs";
import { anonymousPull, robotPush } from "../lib/auth.mjs";
import { fmtInt, fmtMs, heading, table } from "../lib/format.mjs";
import { MANIFEST_TYPE, pushBlob, putManifest, request, supportsMonolithicPost } from "../lib/http.mjs";
import { stopChild } from "../lib/proc.mjs";
import { startCeiling, startOurs } from "../lib/systems.mjs";
import { load, wrkCanHead } from "../lib/wrk.mjs";

const REPO = "bench/read";
const NO_CACHE = { "Cache-Control": "no-cache" };
/** Each target's load is split into this many runs, the targets taking turns (BENCH_READ_ROUNDS, default 2). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_READ_ROUNDS) || 2);

/** Runs of one target summed: req/s over all runs, p50 the mean of the runs', p99 the worst run's. */
function combine(runs) {
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sum = (f) => runs.reduce((a, r) => a + (r[f] ?? 0), 0);
  return {
    rps: mean(runs.map((r) => r.rps ?? 0)),
    p50: mean(runs.map((r) => r.p50 ?? 0)),
    p99: Math.max(...runs.map((r) => r.p99 ?? 0)),
    requests: sum("requests"),
    non2xx: sum("non2xx"),
    socketErrors: sum("socketErrors"),
    runsRps: runs.map((r) => r.rps),
  };
}

/** The small image as REPO:latest: on distribution (no auth; 2.8 ignores a body on POST), on ours by the robot. */
async function seed(reg, auth) {
  const [config, layer] = SMALL.blobs;
  let blobs = [config, layer];
  let mode = "post";
  if (!auth) {
    if (await supportsMonolithicPost(reg.base, REPO, config.digest, config.body)) blobs = [layer];
    else mode = "post-put";
  }
  for (const b of blobs) await pushBlob(reg.base, REPO, b.digest, { body: b.body }, mode, 60_000, auth ?? {});
  await putManifest(reg.base, REPO, "latest", SMALL.manifest, auth ?? {});
}

async function readPath(dist) {
  await seed(dist);
  const ours = await startOurs("read", { auth: true });
  children.oursRead = ours.cp;
  const ceiling = await startCeiling(SMALL.manifest, SMALL.manifestDigest, MANIFEST_TYPE);
  children.ceiling = ceiling.cp;
  try {
    await seed(ours, await robotPush(ours, REPO));
    const headTool = (await wrkCanHead(dist.base)) ? "wrk" : "node";
    const targets = [
      { key: "ceiling", label: "ceiling (same runtime + front, bytes from memory)", base: ceiling.base, headers: async () => ({}) },
      { key: "edge", label: "ours, edge path (anonymous Bearer)", base: ours.base, headers: () => anonymousPull(ours.base, REPO) },
      { key: "origin", label: "ours, origin path (+ Cache-Control: no-cache)", base: ours.base, headers: async () => ({ ...(await anonymousPull(ours.base, REPO)), ...NO_CACHE }) },
      { key: "distribution", label: "distribution (no auth)", base: dist.base, headers: async () => ({}) },
    ];
    const workloads = [
      { key: "getByTag", label: "manifest GET by tag", path: `/v2/${REPO}/manifests/latest`, head: false, tool: "wrk" },
      { key: "headByDigest", label: "manifest HEAD by digest", path: `/v2/${REPO}/manifests/${SMALL.manifestDigest}`, head: true, tool: headTool },
    ];
    const res = { headTool, rounds: ROUNDS };
    for (const w of workloads) {
      res[w.key] = { tool: w.tool };
      const req = (t, headers) => request(t.base + w.path, { method: w.head ? "HEAD" : "GET", headers: { Accept: MANIFEST_TYPE, ...headers } });
      const runs = {};
      for (const t of targets) {
        t.h = await t.headers(); // a fresh token per workload (the auth service's tokens live 300 s)
        const probe = await req(t, t.h);
        if (probe.status !== 200) anomaly(`read path: ${t.label}: ${w.label} answers HTTP ${probe.status}`);
        else if (!w.head && !probe.body.equals(SMALL.manifest)) anomaly(`read path: ${t.label}: ${w.label} returned other bytes`);
        await load(w.tool, t.base + w.path, { head: w.head, seconds: CFG.wrkWarmupSeconds, headers: t.h });
        runs[t.key] = [];
      }
      // the targets in turn, ROUNDS times (order reversed every other round): load from elsewhere hits all alike
      const seconds = Math.max(1, Math.round(CFG.wrkSeconds / ROUNDS));
      for (let i = 0; i < ROUNDS; i++) {
        for (const t of i % 2 ? [...targets].reverse() : targets) runs[t.key].push(await load(w.tool, t.base + w.path, { head: w.head, seconds, headers: t.h }));
      }
      for (const t of targets) {
        const r = combine(runs[t.key]);
        r.tool = w.tool;
        // which path served it, once warm (a request after the load)
        r.readPath = (await req(t, t.h)).headers["x-read-path"] ?? null;
        if (r.non2xx || r.socketErrors) anomaly(`read path: ${t.label}: ${w.label} under ${w.tool}: ${r.non2xx} non-2xx responses, ${r.socketErrors} socket errors`);
        res[w.key][t.key] = r;
      }
      const c = res[w.key].ceiling?.rps;
      for (const t of targets) if (res[w.key][t.key]) res[w.key][t.key].ofCeiling = c ? res[w.key][t.key].rps / c : null;
      const edge = res[w.key].edge?.ofCeiling;
      if (edge != null && edge < TARGETS.edgeOfCeiling)
        targetMissed(`${w.label}, edge path: ${Math.round(edge * 100)} % of the ceiling's req/s (target >= ${Math.round(TARGETS.edgeOfCeiling * 100)} %)`);
    }
    return res;
  } finally {
    await stopChild(ours.cp);
    children.oursRead = null;
    await stopChild(ceiling.cp);
    children.ceiling = null;
  }
}

const pct = (r) => (r == null ? NA : `${Math.round(r * 100)} %`);

export async function readPathSection({ dist }) {
  say(
    heading(
      "10. manifest requests against the runtime's ceiling (16 clients)",
      `GET by tag: wrk -t2 -c16; HEAD by digest: the HEAD load generator of section 2 (same shape); ${CFG.wrkWarmupSeconds}s warm-up each, then
${ROUNDS} rounds of ${Math.max(1, Math.round(CFG.wrkSeconds / ROUNDS))}s per target, the targets taking turns (req/s and p50: mean of the rounds, p99: worst round);
ours: token auth on, an anonymous pull's Bearer token (401 challenge -> auth service), edge path = plain request,
origin path = Cache-Control: no-cache (reads through the repository's Durable Object: the previous design);
ceiling: a worker answering the same manifest bytes from memory, same runtime (workerd) and front (scripts/front.mjs);
target: edge path >= ${pct(TARGETS.edgeOfCeiling)} of the ceiling; "path" = X-Read-Path of a request right after the load`,
    ),
  );
  const s = await section("readPath", () => readPath(dist), () => children.oursRead?.tail ?? children.ceiling?.tail);
  if (!s) return null;
  for (const w of ["getByTag", "headByDigest"]) {
    const label = `${w === "getByTag" ? "manifest GET by tag" : "manifest HEAD by digest"} (${s[w].tool} -c16 ${CFG.wrkSeconds}s)`;
    const tbl = [[label, "req/s", "p50", "p99", "of ceiling", "path", "target", "req/s per round"]];
    const names = { edge: "ours, edge path", origin: "ours, origin path (no-cache)", distribution: "distribution", ceiling: "ceiling" };
    for (const k of ["edge", "origin", "distribution", "ceiling"]) {
      const r = s[w][k];
      if (!r) continue;
      const target = k === "edge" ? `>= ${pct(TARGETS.edgeOfCeiling)}${r.ofCeiling != null && r.ofCeiling < TARGETS.edgeOfCeiling ? " MISSED" : " ok"}` : "";
      const path = r.readPath ?? (k === "edge" || k === "origin" ? "–" : "");
      tbl.push([names[k], fmtInt(r.rps), fmtMs(r.p50), fmtMs(r.p99), pct(r.ofCeiling), path, target, r.runsRps.map(fmtInt).join(" / ")]);
    }
    say(table(tbl).replace(/^/gm, "  "));
  }
  const ep = s.getByTag.edge?.readPath;
  const op = s.getByTag.origin?.readPath;
  if (!ep && !op) say("  (no X-Read-Path header: this build has one read path, the edge and origin rows measure the same code)");
  else if (ep !== "edge" || op !== "origin")
    anomaly(`read path: X-Read-Path of a warm plain request ${ep ?? "absent"}, of a no-cache request ${op ?? "absent"} (expected edge, origin)`);
  return s;
}

export function readPathSummary(s) {
  const rows = [];
  for (const [w, label] of [
    ["getByTag", "manifest GET by tag"],
    ["headByDigest", "manifest HEAD by digest"],
  ]) {
    const x = s[w];
    rows.push([
      `${label}: edge / origin / ceiling req/s (edge >= ${pct(TARGETS.edgeOfCeiling)})`,
      `${fmtInt(x.edge?.rps)} / ${fmtInt(x.origin?.rps)} / ${fmtInt(x.ceiling?.rps)} (edge ${pct(x.edge?.ofCeiling)})`,
      fmtInt(x.distribution?.rps),
      "",
    ]);
  }
  return rows;
}
