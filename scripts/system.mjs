// Starts the whole system locally: every worker in one workerd (Miniflare), local R2/KV/Durable Object
// state persisted on disk, each public service on its own port behind the HTTP front (scripts/front.mjs:
// TLS fallback, CF-Connecting-IP from the socket, early answers, framing errors and idle bodies). Used by
// `pnpm start`, the end-to-end tests and the benchmark.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startFront } from "./front.mjs";
import { replicaOptions } from "./replica.mjs";
import { REPLICA, ROOT, WORKERS } from "./workers.mjs";

/** Miniflare options for one bundled worker (from scripts/build.mjs), with binding overrides. */
function workerOptions(w, host, bindings, direct) {
  const dist = path.join(ROOT, w.dist);
  const fromConfig = JSON.parse(readFileSync(path.join(dist, "miniflare.json"), "utf8"));
  return {
    ...fromConfig,
    name: w.worker,
    modules: true,
    scriptPath: path.join(dist, "index.js"),
    modulesRoot: dist,
    bindings: { ...fromConfig.bindings, ...bindings },
    ...(direct ? { unsafeDirectSockets: [{ host, port: 0 }] } : {}),
  };
}

/** Reads the runtime's output streams and drops what they carry. */
function dropOutput(...streams) {
  for (const s of streams) s.resume();
}

/**
 * The local auth secrets, made once and kept in the state directory so tokens and accounts survive restarts:
 * an ES256 signing key (SIGNING_KEYS) and the admin API token.
 */
function localAuthSecrets(stateDir) {
  const file = path.join(stateDir, "auth-secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: `local-${randomBytes(4).toString("hex")}`, alg: "ES256", use: "sig" };
  const secrets = { signingKeys: JSON.stringify([jwk]), adminToken: randomBytes(24).toString("base64url") };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/**
 * @param {{
 *   host?: string,
 *   ports?: { registry?: number, auth?: number, mirror?: number },
 *   stateDir?: string,
 *   auth?: boolean,
 *   anonymousPull?: string,
 *   writeAccess?: "open" | "closed",
 *   storageMetrics?: boolean,
 *   mirror?: { upstreams?: string, defaultUpstream?: string, tagTtl?: number, anonymousLimit?: number, windowSec?: number, upstreamTimeout?: number },
 *   log?: boolean,
 *   bodyIdleMs?: number,
 *   edgeStaleness?: number,
 *   maxRequestBody?: number,
 *   replica?: { port?: number, credentials?: string },
 *   replicationRetryDelay?: number,
 * }} opts  auth (default true): Docker token auth on the registry; false: no tokens, writes per writeAccess.
 *   bodyIdleMs: how long a request body may stay idle before the front answers 408 (default 30 s).
 *   edgeStaleness: seconds a moved tag or a deletion may take to reach edge reads (EDGE_STALENESS, default 60).
 *   maxRequestBody: the registry's request body limit in bytes (MAX_REQUEST_BODY; default none), as Cloudflare's edge.
 *   replica: also run the `replica` registry (scripts/replica.mjs) on its own port (default 5083); `credentials`
 *   ("user:secret") are given to the primary as REPLICA_CREDENTIALS (or later, with setRegistryBindings).
 *   replicationRetryDelay: the first retry's delay of a failed replication (REPLICATION_RETRY_DELAY, seconds).
 * @returns {Promise<{ urls: Record<string, string>, adminToken: string, mf: Miniflare, stop: () => Promise<void>,
 *   setRegistryBindings: (extra: Record<string, string>) => Promise<void> }>}
 */
export async function startSystem(opts = {}) {
  const host = opts.host ?? "127.0.0.1";
  const stateDir = path.resolve(opts.stateDir ?? path.join(ROOT, ".state"));
  const auth = opts.auth ?? true;
  const secrets = localAuthSecrets(stateDir);

  // Public ports first: the registry's challenge must name the auth service's real URL.
  const fronts = {};
  const urls = {};
  const services = opts.replica ? [...WORKERS, REPLICA] : WORKERS;
  for (const w of services) {
    // Only registries serve signed blob URLs (packages/api/src/blob-urls.ts): their fronts name the origin for them.
    const port = w === REPLICA ? (opts.replica.port ?? w.port) : (opts.ports?.[w.name] ?? w.port);
    fronts[w.name] = await startFront({ host, port, bodyIdleMs: opts.bodyIdleMs, blobOrigin: w.config === "wrangler.toml" });
    urls[w.name] = `http://${host}:${fronts[w.name].address().port}`;
  }

  const bindings = {
    registry: {
      AUTH_REALM: auth ? `${urls.auth}/token` : "",
      WRITE_ACCESS: opts.writeAccess ?? "closed",
      STORAGE_METRICS: opts.storageMetrics ? "on" : "off",
      MAX_REQUEST_BODY: opts.maxRequestBody ? String(opts.maxRequestBody) : "",
      ...(opts.edgeStaleness !== undefined ? { EDGE_STALENESS: String(opts.edgeStaleness) } : {}),
      // The front below names the runtime's listener in X-Blob-Origin (big blob GETs are redirected there).
      TRUST_BLOB_ORIGIN: "on",
      ADMIN_TOKEN: secrets.adminToken,
      ...(opts.replica?.credentials ? { REPLICA_CREDENTIALS: opts.replica.credentials } : {}),
      ...(opts.replicationRetryDelay !== undefined ? { REPLICATION_RETRY_DELAY: String(opts.replicationRetryDelay) } : {}),
    },
    auth: {
      SIGNING_KEYS: secrets.signingKeys,
      ADMIN_TOKEN: secrets.adminToken,
      ANONYMOUS_PULL: opts.anonymousPull ?? "*",
    },
    mirror: {
      STORAGE_METRICS: opts.storageMetrics ? "on" : "off",
      ...(opts.mirror?.upstreams ? { UPSTREAMS: opts.mirror.upstreams } : {}),
      ...(opts.mirror?.defaultUpstream ? { DEFAULT_UPSTREAM: opts.mirror.defaultUpstream } : {}),
      ...(opts.mirror?.tagTtl !== undefined ? { TAG_TTL: String(opts.mirror.tagTtl) } : {}),
      ...(opts.mirror?.anonymousLimit !== undefined ? { RATE_LIMIT_ANONYMOUS: String(opts.mirror.anonymousLimit) } : {}),
      ...(opts.mirror?.windowSec !== undefined ? { RATE_LIMIT_WINDOW: String(opts.mirror.windowSec) } : {}),
      ...(opts.mirror?.upstreamTimeout !== undefined ? { UPSTREAM_TIMEOUT: String(opts.mirror.upstreamTimeout) } : {}),
    },
  };
  const workerList = () => {
    const list = WORKERS.map((w, i) => workerOptions(w, host, bindings[w.name] ?? {}, i > 0));
    if (opts.replica) list.push(replicaOptions(workerOptions(REPLICA, host, { ...bindings.registry, REPLICA_CREDENTIALS: "" }, true)));
    return list;
  };
  const mfOptions = () => ({
    host,
    port: 0,
    defaultPersistRoot: stateDir,
    r2Persist: path.join(stateDir, "r2"),
    kvPersist: path.join(stateDir, "kv"),
    durableObjectsPersist: path.join(stateDir, "do"),
    // The first worker (the registry) is served through Miniflare's entry socket, like `wrangler dev`;
    // the others get a socket of their own. (A direct socket to the registry was tried: workerd then drops
    // keep-alive connections after large multi-request uploads.)
    workers: workerList(),
    // log: false reads the runtime's output and drops it (unread, a full pipe would stall workerd's writes).
    handleRuntimeStdio: opts.log === false ? dropOutput : undefined,
  });
  const mf = new Miniflare(mfOptions());
  const connect = async () => {
    const entry = await mf.ready;
    for (const [i, w] of services.entries()) {
      fronts[w.name].setTarget(i === 0 ? entry : await mf.unsafeGetDirectURL(w.worker));
    }
  };
  await connect();
  return {
    urls,
    adminToken: secrets.adminToken,
    mf,
    /** Restarts the runtime with more registry bindings (state is kept; the fronts follow the new sockets). */
    setRegistryBindings: async (extra) => {
      Object.assign(bindings.registry, extra);
      await mf.setOptions(mfOptions());
      await connect();
    },
    stop: async () => {
      await Promise.all(Object.values(fronts).map((f) => new Promise((r) => f.close(() => r()))));
      await mf.dispose();
    },
  };
}
