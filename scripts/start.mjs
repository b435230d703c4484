// `pnpm start`: bundles the workers, starts the whole system locally with state under .state/, makes a
// local robot account and prints where to push and how to log in.
//
// Environment: REGISTRY_PORT (5080), AUTH_PORT (5081), MIRROR_PORT (5082) — 0 picks a free port;
// STATE_DIR (.state); ANONYMOUS_PULL (repository patterns anyone may pull, default "*");
// REGISTRY_AUTH=off (no token auth and writes open to anyone — benchmarks and experiments only);
// STORAGE_METRICS=on (X-Storage-Ops on every response); EDGE_STALENESS (seconds a moved tag or a deletion may take to
// reach anonymous and pull-only reads, default 60); BODY_IDLE_TIMEOUT (seconds a request body may send
// nothing before it is answered 408, default 30); MAX_REQUEST_BODY (bytes: bodies over it get 413, as on
// Cloudflare's edge — e.g. 100000000 for the Free/Pro plans' 100 MB; push big layers with `pnpm push`; default none);
// mirror: MIRROR_UPSTREAMS (JSON, see workers/mirror/wrangler.toml), MIRROR_DEFAULT_UPSTREAM, MIRROR_TAG_TTL,
// MIRROR_RATE_LIMIT (anonymous pulls per window), MIRROR_RATE_WINDOW (seconds), MIRROR_UPSTREAM_TIMEOUT (seconds
// an upstream may keep the mirror waiting, default 30); the replica (scripts/replica.mjs): REPLICA_PORT (5083; 0 when
// REGISTRY_PORT is 0), REPLICA=off (no replica), REPLICATION_RETRY_DELAY (seconds before a failed replication's first
// retry, doubled per attempt; default 30).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./workers.mjs";
import { keptReplicaCredentials, replicaRobot, replicaRule } from "./replica.mjs";
import { startSystem } from "./system.mjs";

const env = process.env;
if (env.SKIP_BUILD !== "1") {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "build.mjs")], { stdio: "inherit" });
}
const number = (v) => (v === undefined || v === "" ? undefined : Number(v));
const stateDir = path.resolve(env.STATE_DIR ?? path.join(ROOT, ".state"));
const auth = env.REGISTRY_AUTH !== "off";
const replicaOn = auth && env.REPLICA !== "off";
const keptCredentials = replicaOn ? keptReplicaCredentials(stateDir) : undefined;
const replicaPort = number(env.REPLICA_PORT) ?? (number(env.REGISTRY_PORT) === 0 ? 0 : 5083);
const system = await startSystem({
  ports: { registry: number(env.REGISTRY_PORT) ?? 5080, auth: number(env.AUTH_PORT) ?? 5081, mirror: number(env.MIRROR_PORT) ?? 5082 },
  stateDir,
  auth,
  writeAccess: auth ? "closed" : "open",
  anonymousPull: env.ANONYMOUS_PULL,
  storageMetrics: env.STORAGE_METRICS === "on",
  bodyIdleMs: number(env.BODY_IDLE_TIMEOUT) === undefined ? undefined : number(env.BODY_IDLE_TIMEOUT) * 1000,
  maxRequestBody: number(env.MAX_REQUEST_BODY),
  edgeStaleness: number(env.EDGE_STALENESS),
  replica: replicaOn ? { port: replicaPort, credentials: keptCredentials } : undefined,
  replicationRetryDelay: number(env.REPLICATION_RETRY_DELAY),
  // RUNTIME_LOG=off drops the workers' output (their per-request JSON log lines): `pnpm bench`, whose figures are
  // about the workers, not about relaying log lines through this process on a shared CPU.
  log: env.RUNTIME_LOG !== "off",
  mirror: {
    upstreams: env.MIRROR_UPSTREAMS,
    defaultUpstream: env.MIRROR_DEFAULT_UPSTREAM,
    tagTtl: number(env.MIRROR_TAG_TTL),
    anonymousLimit: number(env.MIRROR_RATE_LIMIT),
    windowSec: number(env.MIRROR_RATE_WINDOW),
    upstreamTimeout: number(env.MIRROR_UPSTREAM_TIMEOUT),
  },
});
const { registry, auth: authUrl, mirror } = system.urls;
const hostPort = new URL(registry).host;

/** The local robot (push, pull, delete everywhere): made on the first start, its secret kept in the state dir. */
async function localRobot() {
  const file = path.join(stateDir, "local-robot.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  const admin = { Authorization: `Bearer ${system.adminToken}`, "Content-Type": "application/json" };
  await fetch(`${authUrl}/admin/robots/local`, { method: "DELETE", headers: admin });
  const res = await fetch(`${authUrl}/admin/robots`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({
      name: "local",
      description: "made by pnpm start",
      rules: [{ repository: "*", actions: ["pull", "push", "delete"] }],
      catalog: true,
    }),
  });
  if (res.status !== 201) throw new Error(`creating the local robot: ${res.status} ${await res.text()}`);
  const robot = await res.json();
  writeFileSync(file, JSON.stringify({ name: robot.name, secret: robot.secret }), { mode: 0o600 });
  return robot;
}

// The setup's own requests are logged by the workers (one JSON line each): the summary is printed after them.
const lines = [`registry  ${registry}`, `page      ${registry}/ (browse repositories, tags, signatures)`, `auth      ${authUrl}`, `mirror    ${mirror}`];
if (replicaOn) {
  // The replica's robot (push on replicated/* only) is made on the first start; its credentials reach the primary as
  // the REPLICA_CREDENTIALS binding (a restart of the runtime the first time), and the primary gets its rule.
  const { credentials } = await replicaRobot(stateDir, authUrl, system.adminToken);
  if (credentials !== keptCredentials) await system.setRegistryBindings({ REPLICA_CREDENTIALS: credentials });
  const rule = await replicaRule(registry, system.urls.replica, system.adminToken);
  lines.push(`replica   ${system.urls.replica}`);
  lines.push(`          replicated/* pushed to the registry is copied here (rule ${rule}: pnpm admin replication list)`);
}
lines.push(`state     ${stateDir}`);
if (auth) {
  const robot = await localRobot();
  lines.push(`robot     ${robot.name} ${robot.secret}`);
  lines.push(`login     skopeo login --tls-verify=false -u '${robot.name}' -p '${robot.secret}' ${hostPort}`);
  lines.push(`push      skopeo copy --dest-tls-verify=false --dest-creds '${robot.name}:${robot.secret}' oci:<dir>:<tag> docker://${hostPort}/<name>:<tag>`);
  lines.push(`pull      anonymous for ${env.ANONYMOUS_PULL ?? "*"}; robots and rules: pnpm admin --help (ADMIN_TOKEN in ${path.join(stateDir, "auth-secrets.json")})`);
} else {
  lines.push(`writes    open to anyone, no token auth (REGISTRY_AUTH=off: local experiments only)`);
  lines.push(`push      skopeo copy --dest-tls-verify=false oci:<dir>:<tag> docker://${hostPort}/<name>:<tag>`);
}
console.log(lines.join("\n"));
console.log(`ready`);

const stop = async () => {
  await system.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
