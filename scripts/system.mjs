// Starts the whole system locally: every worker in one workerd (Miniflare), local R2/KV/Durable Object
// state persisted on disk, each public service behind the TLS-sniffing front. Used by `pnpm start`,
// the end-to-end tests and the benchmark.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startFront } from "./front.mjs";
import { ROOT, WORKERS } from "./workers.mjs";

/** Miniflare options for one bundled worker (from scripts/build.mjs), with overrides. */
function workerOptions(w, bindings) {
  const dist = path.join(ROOT, w.dist);
  const fromConfig = JSON.parse(readFileSync(path.join(dist, "miniflare.json"), "utf8"));
  return {
    ...fromConfig,
    name: w.name,
    modules: true,
    scriptPath: path.join(dist, "index.js"),
    modulesRoot: dist,
    bindings: { ...fromConfig.bindings, ...bindings },
  };
}

/**
 * @param {{ host?: string, ports?: { registry?: number }, stateDir?: string, writeAccess?: "open" | "closed",
 *   storageMetrics?: boolean, log?: boolean }} opts
 * @returns {Promise<{ urls: Record<string, string>, stop: () => Promise<void> }>}
 */
export async function startSystem(opts = {}) {
  const host = opts.host ?? "127.0.0.1";
  const stateDir = path.resolve(opts.stateDir ?? path.join(ROOT, ".state"));
  const registry = WORKERS.find((w) => w.name === "registry");
  const mf = new Miniflare({
    host,
    port: 0,
    defaultPersistRoot: stateDir,
    r2Persist: path.join(stateDir, "r2"),
    kvPersist: path.join(stateDir, "kv"),
    durableObjectsPersist: path.join(stateDir, "do"),
    workers: [
      workerOptions(registry, {
        WRITE_ACCESS: opts.writeAccess ?? "closed",
        STORAGE_METRICS: opts.storageMetrics ? "on" : "off",
      }),
    ],
    handleRuntimeStdio: opts.log === false ? () => undefined : undefined,
  });
  const inner = await mf.ready;
  const front = await startFront({ host, port: opts.ports?.registry ?? 5080, target: inner.href });
  const port = front.address().port;
  return {
    urls: { registry: `http://${host}:${port}` },
    mf,
    stop: async () => {
      await new Promise((r) => front.close(() => r()));
      await mf.dispose();
    },
  };
}
