// 4. skopeo push (oci: layout → registry) and pull (registry → dir:) of an image with a big layer; 5. skopeo
// inspect --tls-verify=false (a TLS-fallback stall would show as ~10 s).
import { rmSync } from "node:fs";
import path from "node:path";

import { anomaly, BIG_LABEL, CFG, say, section, SMALL, SMALL_REPO, TMP } from "../lib/context.mjs";
import { dirFiles } from "../lib/files.mjs";
import { fmtRatio, fmtS, heading, ratio, row } from "../lib/format.mjs";
import { run } from "../lib/proc.mjs";

async function skopeoPushPull(regs, layouts) {
  const res = { runs: [] };
  for (let i = 0; i < layouts.length; i++) {
    const lay = layouts[i];
    const order = i % 2 === 0 ? regs : [...regs].reverse();
    const runRes = { run: i + 1 };
    for (const reg of order) {
      const repo = `bench/big-r${i + 1}`;
      const push = await run("skopeo", ["copy", "--dest-tls-verify=false", `oci:${lay.dir}:t`, `docker://${reg.host}/${repo}:t`], { timeoutMs: 300_000 });
      const pullDir = path.join(TMP, `pull-${reg.name}-${i}`);
      const pull =
        push.code === 0
          ? await run("skopeo", ["copy", "--src-tls-verify=false", `docker://${reg.host}/${repo}:t`, `dir:${pullDir}`], { timeoutMs: 300_000 })
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

async function skopeoInspect(regs) {
  const res = {};
  for (const reg of regs) {
    const times = [];
    let error = null;
    for (let i = 0; i < CFG.inspectRuns; i++) {
      const r = await run("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/${SMALL_REPO}:latest`], { timeoutMs: 60_000 });
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
    const max = sorted.length ? sorted[sorted.length - 1] : null;
    res[reg.name] = { medianMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null, maxMs: max, runsMs: times, error };
    if (error) anomaly(`${reg.name}: skopeo inspect failed: ${error}`);
    if (max > 5000) anomaly(`${reg.name}: skopeo inspect took ${fmtS(max)} — looks like the TLS-fallback stall`);
  }
  return res;
}

export async function skopeoSection({ regs, layouts, oursLog }) {
  say(
    heading(
      `4. skopeo copy of an image with a ${BIG_LABEL} layer`,
      `push: oci:<layout>:t -> docker://<host>/bench/big-rN:t (--dest-tls-verify=false); pull: docker://... -> dir:<tmp>
(--src-tls-verify=false); wall time, best of ${CFG.skopeoRuns} (fresh layer and repo per run)`,
    ),
  );
  const s4 = await section("skopeo", () => skopeoPushPull(regs, layouts), oursLog);
  if (!s4) return null;
  const allRuns = (name, k) => s4.runs.map((r) => (r[name][k] == null ? "fail" : fmtS(r[name][k]))).join(", ");
  const line = (label, best, all) =>
    say(row(label, `${fmtS(s4.ours[best])} [${allRuns("ours", all)}]`, `${fmtS(s4.distribution[best])} [${allRuns("distribution", all)}]`, ratio(s4.ours[best], s4.distribution[best])));
  line("skopeo push (best)", "pushBestMs", "pushMs");
  line("skopeo pull (best)", "pullBestMs", "pullMs");
  return s4;
}

export async function inspectSection({ regs, oursLog }) {
  say(heading("5. TLS fallback", `skopeo inspect --tls-verify=false docker://<host>/${SMALL_REPO}:latest, ${CFG.inspectRuns} runs (a stall would show ~10 s)`));
  const s5 = await section("inspect", () => skopeoInspect(regs), oursLog);
  const inspStr = (x) => (x?.medianMs == null ? "failed" : `median ${fmtS(x.medianMs)} max ${fmtS(x.maxMs)}`);
  if (s5) say(row("skopeo inspect", inspStr(s5.ours), inspStr(s5.distribution), ratio(s5.ours.medianMs, s5.distribution.medianMs)));
  return s5;
}

export function skopeoSummary(s4, s5) {
  const rr = (a, b) => fmtRatio(ratio(a, b));
  const rows = [];
  if (s4) {
    rows.push([`skopeo push, ${BIG_LABEL} layer`, fmtS(s4.ours.pushBestMs), fmtS(s4.distribution.pushBestMs), rr(s4.ours.pushBestMs, s4.distribution.pushBestMs)]);
    rows.push([`skopeo pull, ${BIG_LABEL} layer`, fmtS(s4.ours.pullBestMs), fmtS(s4.distribution.pullBestMs), rr(s4.ours.pullBestMs, s4.distribution.pullBestMs)]);
  }
  if (s5) rows.push(["skopeo inspect --tls-verify=false (median)", fmtS(s5.ours.medianMs), fmtS(s5.distribution.medianMs), rr(s5.ours.medianMs, s5.distribution.medianMs)]);
  return rows;
}
