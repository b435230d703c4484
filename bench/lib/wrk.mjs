// Request-rate load: wrk (-t2 -c16) and, for HEAD (Debian's wrk 4.1.0 cannot HEAD), the node load generator of
// lib/load.mjs shaped like it. Both return { rps, p50, p75, p90, p99, requests, non2xx, socketErrors }.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";

import { TMP } from "./context.mjs";
import { MANIFEST_TYPE } from "./http.mjs";
import { loadTest } from "./load.mjs";
import { run } from "./proc.mjs";

export function parseWrk(text) {
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

function headLua() {
  const file = path.join(TMP, "head.lua");
  if (!existsSync(file)) writeFileSync(file, 'wrk.method = "HEAD"\n');
  return file;
}

/** wrk -t2 -c16 with the OCI manifest Accept header and `headers` (e.g. Authorization, Cache-Control). */
export async function wrk(url, { head = false, seconds, headers = {} }) {
  const args = ["-t2", "-c16", `-d${seconds}s`, "--latency", "-H", `Accept: ${MANIFEST_TYPE}`];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  if (head) args.push("-s", headLua());
  args.push(url);
  const r = await run("wrk", args, { timeoutMs: (seconds + 30) * 1000 });
  if (r.code !== 0) throw new Error(`wrk failed (${r.code}): ${r.stderr}${r.stdout}`);
  return parseWrk(r.stdout);
}

/** Can this wrk send HEAD? (Debian's 4.1.0 waits for a body after a HEAD response with Content-Length.) */
export async function wrkCanHead(base) {
  const r = await run("wrk", ["-t1", "-c1", "-d1s", "-s", headLua(), `${base}/v2/`], { timeoutMs: 30_000 });
  const w = parseWrk(r.stdout);
  return r.code === 0 && (w.requests ?? 0) > 0;
}

/** One closed-loop run at 16 connections with wrk or the node generator ("node"), OCI Accept header added. */
export function load(tool, url, { head = false, seconds, headers = {} }) {
  if (tool === "wrk") return wrk(url, { head, seconds, headers });
  return loadTest({
    url,
    method: head ? "HEAD" : "GET",
    headers: { Accept: MANIFEST_TYPE, ...headers },
    threads: 2,
    connections: 16,
    seconds,
  });
}
