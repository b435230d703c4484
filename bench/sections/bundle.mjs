// 12. Bundle size of each worker: `wrangler deploy --dry-run --outdir <tmp> -c <config>` (as scripts/build.mjs
// builds them), the uploaded modules raw and gzip (source maps and README left out), beside wrangler's own
// "Total Upload" line. Targets for the registry: < 150 KiB raw, < 40 KiB gzip.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { ROOT, say, section, TARGETS, targetMissed, TMP } from "../lib/context.mjs";
import { heading, table } from "../lib/format.mjs";
import { run } from "../lib/proc.mjs";
import { WORKERS } from "../../scripts/workers.mjs";

const KiB = 1024;
const fmtKiB = (b) => (b == null ? "n/a" : `${(b / KiB).toFixed(1)} KiB`);

async function bundles() {
  const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
  const res = {};
  for (const w of WORKERS) {
    const outdir = path.join(TMP, `bundle-${w.name}`);
    mkdirSync(outdir, { recursive: true });
    const r = await run(wrangler, ["deploy", "--dry-run", "--outdir", outdir, "-c", path.join(ROOT, w.config)], { timeoutMs: 120_000, env });
    if (r.code !== 0) throw new Error(`wrangler deploy --dry-run -c ${w.config}: exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(-400)}`);
    const files = readdirSync(outdir).filter((f) => !f.endsWith(".map") && f !== "README.md");
    const bytes = files.map((f) => readFileSync(path.join(outdir, f)));
    const raw = bytes.reduce((a, b) => a + b.length, 0);
    const gzip = bytes.reduce((a, b) => a + gzipSync(b, { level: 9 }).length, 0);
    const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(r.stdout + r.stderr);
    res[w.name] = { config: w.config, files, raw, gzip, wrangler: m ? { rawKiB: Number(m[1]), gzipKiB: Number(m[2]) } : null };
  }
  const reg = res.registry;
  if (reg) {
    if (reg.raw >= TARGETS.registryBundleKiB * KiB) targetMissed(`registry bundle ${fmtKiB(reg.raw)} raw (target < ${TARGETS.registryBundleKiB} KiB)`);
    if (reg.gzip >= TARGETS.registryBundleGzipKiB * KiB) targetMissed(`registry bundle ${fmtKiB(reg.gzip)} gzip (target < ${TARGETS.registryBundleGzipKiB} KiB)`);
  }
  return res;
}

export async function bundleSection() {
  say(
    heading(
      "12. bundle size",
      `wrangler deploy --dry-run --outdir <tmp> -c <config> per worker; raw = the uploaded modules (no source map), gzip = gzip -9 of each;
wrangler = its own "Total Upload" line; target: registry < ${TARGETS.registryBundleKiB} KiB raw, < ${TARGETS.registryBundleGzipKiB} KiB gzip`,
    ),
  );
  const s = await section("bundle", () => bundles());
  if (!s) return null;
  const tbl = [["worker", "raw", "gzip", "wrangler raw / gzip", "target"]];
  for (const [name, b] of Object.entries(s)) {
    const target =
      name === "registry"
        ? `< ${TARGETS.registryBundleKiB} / < ${TARGETS.registryBundleGzipKiB} KiB${b.raw < TARGETS.registryBundleKiB * KiB && b.gzip < TARGETS.registryBundleGzipKiB * KiB ? " ok" : " MISSED"}`
        : "";
    tbl.push([`${name} (${b.config})`, fmtKiB(b.raw), fmtKiB(b.gzip), b.wrangler ? `${b.wrangler.rawKiB} / ${b.wrangler.gzipKiB} KiB` : "n/a", target]);
  }
  say(table(tbl).replace(/^/gm, "  "));
  return s;
}

export function bundleSummary(s) {
  return Object.entries(s).map(([name, b]) => [`bundle ${name}: raw, gzip${name === "registry" ? ` (< ${TARGETS.registryBundleKiB}, < ${TARGETS.registryBundleGzipKiB} KiB)` : ""}`, `${fmtKiB(b.raw)}, ${fmtKiB(b.gzip)}`, "n/a", ""]);
}
