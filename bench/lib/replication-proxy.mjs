// Section 14's counting proxy: a plain HTTP relay in the bench process in front of one of our registries, which
// records every request that passes (method, path, status, body bytes in and out) with the X-Storage-Ops of its
// answer (present when the registry runs with STORAGE_METRICS=on). Put in front of the primary for a client's push
// and in front of the replica as a replication rule's target, it counts what each side is asked to do.
import http from "node:http";

import { addOps, parseStorageOps, zeroOps } from "./http.mjs";

/** What a request to the registry API is: `manifest HEAD`, `upload PATCH`, `blob HEAD`, `token`, ... */
export function kindOf(method, url) {
  const p = url.split("?")[0];
  if (/\/blobs\/uploads\/?$/.test(p)) return `upload ${method}${/[?&]mount=/.test(url) ? " (mount)" : " (start)"}`;
  if (/\/blobs\/uploads\/[^/]+$/.test(p)) return `upload ${method}${method === "PUT" ? " (finish)" : ""}`;
  if (/\/blobs\/sha256:[0-9a-f]+$/.test(p)) return `blob ${method}`;
  if (/\/manifests\/sha256:[0-9a-f]+$/.test(p)) return `manifest ${method} by digest`;
  if (/\/manifests\/[^/]+$/.test(p)) return `manifest ${method} by tag`;
  if (/\/referrers\//.test(p)) return `referrers ${method}`;
  if (p === "/v2/" || p === "/v2") return `${method} /v2/`;
  return `${method} other`;
}

/**
 * Starts the relay on a free loopback port in front of `target` (a base URL). Returns { url, host, log, reset(),
 * close() }: `log` is the list of requests { kind, method, path, status, bytesIn, bytesOut, ops, ms }.
 */
export function startCountingProxy(target) {
  const to = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const log = [];
  const server = http.createServer((req, res) => {
    const started = performance.now();
    const entry = { kind: kindOf(req.method, req.url), method: req.method, path: req.url, status: 0, bytesIn: 0, bytesOut: 0, ops: null, ms: 0 };
    log.push(entry);
    req.on("data", (d) => {
      entry.bytesIn += d.length;
    });
    const upstream = http.request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers, agent },
      (up) => {
        entry.status = up.statusCode;
        entry.ops = up.headers["x-storage-ops"] ? parseStorageOps(up.headers["x-storage-ops"]) : null;
        res.writeHead(up.statusCode, up.headers);
        up.on("data", (d) => {
          entry.bytesOut += d.length;
        });
        up.on("end", () => {
          entry.ms = performance.now() - started;
        });
        up.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      entry.status = 502;
      entry.error = e.message;
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(String(e.message));
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        host: `127.0.0.1:${port}`,
        log,
        reset: () => log.splice(0),
        close: () =>
          new Promise((r) => {
            agent.destroy();
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * The log grouped by kind (in order of first appearance): { kind, requests, statuses, bytesIn, ops } each, plus a
 * `total` row; `ops` is the sum of X-Storage-Ops (null when no answer of the group carried the header).
 */
export function summarize(log) {
  const groups = new Map();
  const add = (g, e) => {
    g.requests++;
    g.statuses[e.status] = (g.statuses[e.status] ?? 0) + 1;
    g.bytesIn += e.bytesIn;
    g.bytesOut += e.bytesOut;
    if (e.ops) {
      g.ops = addOps(g.ops ?? zeroOps(), e.ops);
      g.metered++;
    }
  };
  const fresh = (kind) => ({ kind, requests: 0, metered: 0, statuses: {}, bytesIn: 0, bytesOut: 0, ops: null });
  const total = fresh("total");
  for (const e of log) {
    if (!groups.has(e.kind)) groups.set(e.kind, fresh(e.kind));
    add(groups.get(e.kind), e);
    add(total, e);
  }
  return { groups: [...groups.values()], total };
}
