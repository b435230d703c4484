// 2. Manifest GET by tag / HEAD by digest under load on the main instances (ours without token auth), with wrk;
// HEAD with the node load generator when wrk cannot (and then the GET with it too, to compare the tools).
import { anomaly, CFG, NA, say, section, SMALL, SMALL_REPO } from "../lib/context.mjs";
import { fmtInt, fmtMs, fmtRatio, heading, ratio, row } from "../lib/format.mjs";
import { MANIFEST_TYPE, request } from "../lib/http.mjs";
import { load, wrkCanHead } from "../lib/wrk.mjs";

async function manifestLoad(regs, dist) {
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
      const go = (seconds) => load(c.tool, reg.base + c.path, { head: c.head, seconds });
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

export const wrkStr = (w) => (w ? `${fmtInt(w.rps)} req/s p50 ${fmtMs(w.p50)} p99 ${fmtMs(w.p99)}` : NA);

export async function manifestsSection({ regs, dist, oursLog }) {
  say(
    heading(
      "2. manifest requests under load",
      `wrk -t2 -c16 -d${CFG.wrkSeconds}s --latency, Accept: ${MANIFEST_TYPE}, after a ${CFG.wrkWarmupSeconds}s warm-up each (ours without token auth)`,
    ),
  );
  const s2 = await section("manifests", () => manifestLoad(regs, dist), oursLog);
  if (!s2) return null;
  const line = (label, x) => say(row(label, wrkStr(x.ours), wrkStr(x.distribution), ratio(x.ours.rps, x.distribution.rps)));
  line(`manifest GET by tag (wrk -c16 ${CFG.wrkSeconds}s)`, s2.getByTag);
  line(`manifest HEAD by digest (${s2.headByDigest.ours.tool} -c16 ${CFG.wrkSeconds}s)`, s2.headByDigest);
  if (s2.getByTagNode) {
    line(`manifest GET by tag (node -c16 ${CFG.wrkSeconds}s)`, s2.getByTagNode);
    say(`  HEAD: ${s2.headTool}: 2 worker threads, 16 keep-alive connections, closed loop like wrk;
  the "node" GET row is the same generator on the GET, to set its figures against wrk's`);
  }
  return s2;
}

export function manifestsSummary(s2) {
  const rr = (x) => fmtRatio(ratio(x.ours.rps, x.distribution.rps));
  return [
    ["manifest GET by tag, req/s (wrk)", fmtInt(s2.getByTag.ours.rps), fmtInt(s2.getByTag.distribution.rps), rr(s2.getByTag)],
    [`manifest HEAD by digest, req/s (${s2.headByDigest.ours.tool})`, fmtInt(s2.headByDigest.ours.rps), fmtInt(s2.headByDigest.distribution.rps), rr(s2.headByDigest)],
  ];
}
