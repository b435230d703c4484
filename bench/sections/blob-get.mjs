// 3. Blob GET of the big blob with curl, plain and with Accept-Encoding: gzip (best of N), and a diagnostic GET
// straight from workerd's own listener (no Node front).
import { readFileSync } from "node:fs";

import { anomaly, BIG_LABEL, BLOB_REPO, CFG, NA, say, section } from "../lib/context.mjs";
import { fmtRate, fmtRatio, heading, ratio, row } from "../lib/format.mjs";
import { request } from "../lib/http.mjs";
import { listeningPorts, run, treePids } from "../lib/proc.mjs";

// -L: a client follows a redirect (the registry may answer a big blob's GET with a 307 to a signed URL on another
// origin: packages/api/src/blob-urls.ts); the figures are of the whole transfer, headers of the last response.
const CURL_FMT = "%{speed_download} %{size_download} %{http_code} %{num_redirects} [%header{content-encoding}] [%header{content-type}] [%header{content-length}]";

async function curlOnce(url, gzip) {
  const args = ["-s", "-L", "-o", "/dev/null", "--max-time", "120", "-w", CURL_FMT];
  if (gzip) args.push("-H", "Accept-Encoding: gzip");
  args.push(url);
  const r = await run("curl", args, { timeoutMs: 130_000 });
  const m = /^([\d.]+) (\d+) (\d+) (\d+) \[(.*?)\] \[(.*?)\] \[(.*?)\]/.exec(r.stdout.trim());
  if (!m) return { error: `curl exit ${r.code}: ${r.stdout} ${r.stderr}` };
  return {
    speed: Number(m[1]),
    size: Number(m[2]),
    status: Number(m[3]),
    redirects: Number(m[4]),
    contentEncoding: m[5] || null,
    contentType: m[6] || null,
    contentLength: m[7] ? Number(m[7]) : null,
    exit: r.code,
  };
}

async function blobGet(regs, big) {
  const res = {};
  for (const gzip of [false, true]) {
    const key = gzip ? "acceptGzip" : "plain";
    const what = `blob GET${gzip ? " (Accept-Encoding: gzip)" : ""}`;
    res[key] = {};
    for (const reg of regs) {
      const runs = [];
      for (let i = 0; i < CFG.curlRuns; i++) runs.push(await curlOnce(`${reg.base}/v2/${BLOB_REPO}/blobs/${big.digest}`, gzip));
      const good = runs.filter((x) => !x.error);
      const best = good.reduce((a, b) => (!a || b.speed > a.speed ? b : a), null);
      const sizeOk = good.length > 0 && good.every((x) => x.size === big.size && x.status === 200);
      const enc = [...new Set(good.map((x) => x.contentEncoding).filter(Boolean))];
      const redirected = good.some((x) => x.redirects > 0);
      res[key][reg.name] = { best: best?.speed ?? null, runs, sizeOk, contentEncoding: enc.join(",") || null, redirected };
      if (!sizeOk)
        anomaly(`${reg.name}: ${what}: size_download/status ${good.map((x) => `${x.size}/${x.status}`).join(", ") || "(curl failed)"} — expected ${big.size}/200`);
      if (enc.length) anomaly(`${reg.name}: ${what} came back with Content-Encoding: ${enc.join(",")}`);
      if (good.some((x) => x.contentLength == null)) anomaly(`${reg.name}: ${what} without Content-Length`);
      if (reg.name === "ours" && best && best.speed < 1e9) anomaly(`ours: ${what} ${fmtRate(best.speed)} — below 1 GB/s`);
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
    const r = await curlOnce(`http://127.0.0.1:${port}/v2/${BLOB_REPO}/blobs/${big.digest}`, false);
    if (!r.error && r.size === big.size && r.status === 200) runs.push(r.speed);
  }
  return { best: runs.length ? Math.max(...runs) : null, port, runs };
}

export async function blobGetSection({ regs, ours, big, oursLog }) {
  say(
    heading(
      `3. blob GET of the ${BIG_LABEL} blob`,
      `curl -s -L -o /dev/null -w '%{speed_download} %{size_download} %{http_code}', best of ${CFG.curlRuns}; size must be exactly ${big.size} B;
"via 307": the GET was redirected (to a signed URL on the runtime's own listener) and curl followed`,
    ),
  );
  const s3 = await section(
    "blobGet",
    async () => {
      const r = await blobGet(regs, big);
      r.oursDirect = await blobGetDirect(ours, big);
      return r;
    },
    oursLog,
  );
  if (!s3) return null;
  const curlStr = (c) =>
    c ? `${fmtRate(c.best)} size ${c.sizeOk ? "ok" : "WRONG"}${c.contentEncoding ? ` enc=${c.contentEncoding}` : ""}${c.redirected ? " (via 307)" : ""}` : NA;
  say(row("blob GET", curlStr(s3.plain.ours), curlStr(s3.plain.distribution), ratio(s3.plain.ours.best, s3.plain.distribution.best)));
  say(row("blob GET, Accept-Encoding: gzip", curlStr(s3.acceptGzip.ours), curlStr(s3.acceptGzip.distribution), ratio(s3.acceptGzip.ours.best, s3.acceptGzip.distribution.best)));
  const d = s3.oursDirect;
  say(
    `${"blob GET, ours straight from workerd".padEnd(44)}ours ${d.best == null ? `n/a (${d.why ?? "failed"})` : fmtRate(d.best)}` +
      `   (diagnostic: no Node front; vs through the front ${fmtRatio(ratio(s3.plain.ours.best, d.best))}x)`,
  );
  return s3;
}

export function blobGetSummary(s3) {
  const rr = (a, b) => fmtRatio(ratio(a, b));
  return [
    [`blob GET ${BIG_LABEL}`, fmtRate(s3.plain.ours.best), fmtRate(s3.plain.distribution.best), rr(s3.plain.ours.best, s3.plain.distribution.best)],
    [`blob GET ${BIG_LABEL}, Accept-Encoding: gzip`, fmtRate(s3.acceptGzip.ours.best), fmtRate(s3.acceptGzip.distribution.best), rr(s3.acceptGzip.ours.best, s3.acceptGzip.distribution.best)],
    [`blob GET ${BIG_LABEL}, ours without the front`, fmtRate(s3.oursDirect.best), NA, ""],
  ];
}
