// A small closed-loop HTTP/1.1 load generator (node: built-ins only), shaped like `wrk -t2 -c16`: T worker
// threads, C keep-alive connections in all, one request in flight per connection, latency per response.
// It exists because Debian's wrk 4.1.0 cannot do HEAD: its parser waits for the Content-Length body a HEAD
// response never carries, so every HEAD "request" times out and wrk reports 0 requests.
import net from "node:net";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/**
 * @param {{ url: string, method?: string, headers?: Record<string,string>, threads?: number, connections?: number, seconds: number }} o
 * @returns {Promise<{ rps: number, p50: number, p75: number, p90: number, p99: number, requests: number, non2xx: number, socketErrors: number }>}
 */
export async function loadTest(o) {
  const threads = o.threads ?? 2;
  const connections = o.connections ?? 16;
  const per = Array.from({ length: threads }, (_, i) => Math.floor(connections / threads) + (i < connections % threads ? 1 : 0));
  const started = performance.now();
  const parts = await Promise.all(
    per.map(
      (conns) =>
        new Promise((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), {
            workerData: { url: o.url, method: o.method ?? "GET", headers: o.headers ?? {}, conns, seconds: o.seconds },
          });
          const kill = setTimeout(() => {
            w.terminate();
            reject(new Error("load worker did not finish"));
          }, (o.seconds + 20) * 1000);
          w.once("message", (m) => {
            clearTimeout(kill);
            resolve(m);
            w.terminate();
          });
          w.once("error", (e) => {
            clearTimeout(kill);
            reject(e);
          });
        }),
    ),
  );
  const elapsed = Math.max(...parts.map((p) => p.elapsedMs)) / 1000 || (performance.now() - started) / 1000;
  const lat = new Float64Array(parts.reduce((a, p) => a + p.latencies.length, 0));
  let k = 0;
  for (const p of parts) for (const v of p.latencies) lat[k++] = v;
  lat.sort();
  const pct = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] : null);
  const requests = lat.length;
  return {
    rps: requests / elapsed,
    p50: pct(0.5),
    p75: pct(0.75),
    p90: pct(0.9),
    p99: pct(0.99),
    requests,
    non2xx: parts.reduce((a, p) => a + p.non2xx, 0),
    socketErrors: parts.reduce((a, p) => a + p.errors, 0),
    tool: "node load generator",
  };
}

function workerMain({ url, method, headers, conns, seconds }) {
  const u = new URL(url);
  const head = method === "HEAD";
  const req = Buffer.from(
    `${method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("") +
      "\r\n",
  );
  const latencies = [];
  let non2xx = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let open = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    parentPort.postMessage({ latencies, non2xx, errors, elapsedMs: performance.now() - t0 });
  };

  function connect() {
    if (performance.now() >= deadline) return;
    open++;
    const s = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true });
    let buf = Buffer.alloc(0);
    let sent = 0;
    let need = -1; // total bytes of the current response once its header is parsed
    const send = () => {
      if (performance.now() >= deadline) {
        s.destroy();
        return;
      }
      need = -1;
      sent = performance.now();
      s.write(req);
    };
    s.on("connect", send);
    s.on("data", (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      for (;;) {
        if (need < 0) {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const headText = buf.subarray(0, end).toString("latin1");
          const status = Number(headText.slice(9, 12));
          if (status < 200 || status > 399) non2xx++;
          const cl = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
          if (!head && !cl && status !== 204 && status !== 304) {
            // chunked or close-delimited bodies are not needed here (manifests carry Content-Length)
            errors++;
            s.destroy();
            return;
          }
          need = end + 4 + (head || status === 204 || status === 304 ? 0 : Number(cl[1]));
        }
        if (buf.length < need) return;
        latencies.push(performance.now() - sent);
        buf = buf.subarray(need);
        send();
        if (s.destroyed) return;
      }
    });
    s.on("error", () => {
      errors++;
    });
    s.on("close", () => {
      open--;
      if (performance.now() < deadline) setTimeout(connect, 10);
      else if (open === 0) finish();
    });
  }
  for (let i = 0; i < conns; i++) connect();
  // bounded: whatever happens, report shortly after the deadline
  setTimeout(finish, seconds * 1000 + 5000).unref();
}

if (!isMainThread && workerData?.url) workerMain(workerData);
