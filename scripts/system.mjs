// Starts the whole system locally: every worker in one workerd (Miniflare), local R2/KV/Durable Object
// state persisted on disk, each public service on its own port behind the TLS-sniffing front. Used by
// `pnpm start`, the end-to-end tests and the benchmark.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startFront } from "./front.mjs";
import { ROOT, WORKERS } from "./workers.mjs";

/** Miniflare options for one bundled worker (from scripts/build.mjs), with binding overrides. */
function workerOptions(w, host, bindings, direct) {
  const dist = path.join(ROOT, w.dist);
  const fromConfig = JSON.parse(readFileSync(path.join(dist, "miniflare.json"), "utf8"));
  return {
    ...fromConfig,
    name: w.name,
    modules: true,
    scriptPath: path.join(dist, "index.js"),
    modulesRoot: dist,
    bindings: { ...fromConfig.bindings, ...bindings },
    ...(direct ? { unsafeDirectSockets: [{ host, port: 0 }] } : {}),
  };
}

/**
 * @param {{
 *   host?: string,
 *   ports?: { registry?: number, mirror?: number },
 *   stateDir?: string,
 *   writeAccess?: "open" | "closed",
 *   storageMetrics?: boolean,
 *   mirror?: { upstreams?: string, defaultUpstream?: string, tagTtl?: number, anonymousLimit?: number, windowSec?: number },
 *   log?: boolean,
 * }} opts
 * @returns {Promise<{ urls: Record<string, string>, mf: Miniflare, stop: () => Promise<void> }>}
 */
export async function startSystem(opts = {}) {
  const host = opts.host ?? "127.0.0.1";
  const stateDir = path.resolve(opts.stateDir ?? path.join(ROOT, ".state"));
  const bindings = {
    registry: {
      WRITE_ACCESS: opts.writeAccess ?? "closed",
      STORAGE_METRICS: opts.storageMetrics ? "on" : "off",
    },
    mirror: {
      STORAGE_METRICS: opts.storageMetrics ? "on" : "off",
      ...(opts.mirror?.upstreams ? { UPSTREAMS: opts.mirror.upstreams } : {}),
      ...(opts.mirror?.defaultUpstream ? { DEFAULT_UPSTREAM: opts.mirror.defaultUpstream } : {}),
      ...(opts.mirror?.tagTtl !== undefined ? { TAG_TTL: String(opts.mirror.tagTtl) } : {}),
      ...(opts.mirror?.anonymousLimit !== undefined ? { RATE_LIMIT_ANONYMOUS: String(opts.mirror.anonymousLimit) } : {}),
      ...(opts.mirror?.windowSec !== undefined ? { RATE_LIMIT_WINDOW: String(opts.mirror.windowSec) } : {}),
    },
  };
  const mf = new Miniflare({
    host,
    port: 0,
    defaultPersistRoot: stateDir,
    r2Persist: path.join(stateDir, "r2"),
    kvPersist: path.join(stateDir, "kv"),
    durableObjectsPersist: path.join(stateDir, "do"),
    // The first worker (the registry) is served through Miniflare's entry socket, like `wrangler dev`;
    // the others get a socket of their own. (A direct socket to the registry was tried: workerd then drops
    // keep-alive connections after large multi-request uploads — tests/e2e big-blob.)
    workers: WORKERS.map((w, i) => workerOptions(w, host, bindings[w.name] ?? {}, i > 0)),
    handleRuntimeStdio: opts.log === false ? () => undefined : undefined,
  });
  const entry = await mf.ready;
  const fronts = [];
  const urls = {};
  for (const [i, w] of WORKERS.entries()) {
    const target = i === 0 ? entry : await mf.unsafeGetDirectURL(w.name);
    const front = await startFront({ host, port: opts.ports?.[w.name] ?? w.port, target: target.href });
    fronts.push(front);
    urls[w.name] = `http://${host}:${front.address().port}`;
  }
  return {
    urls,
    mf,
    stop: async () => {
      await Promise.all(fronts.map((f) => new Promise((r) => f.close(() => r()))));
      await mf.dispose();
    },
  };
}
