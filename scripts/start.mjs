// `pnpm start`: bundles the workers, starts the whole system locally with state under .state/ and
// prints where to push. Ports: REGISTRY_PORT (default 5080), MIRROR_PORT (5082). State: STATE_DIR (default .state).
// Mirror: MIRROR_UPSTREAMS (JSON, see workers/mirror/wrangler.toml), MIRROR_DEFAULT_UPSTREAM, MIRROR_TAG_TTL,
// MIRROR_RATE_LIMIT (anonymous pulls per window), MIRROR_RATE_WINDOW (seconds).
// STORAGE_METRICS=on: per-request R2 operation counts in an X-Storage-Ops response header.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./workers.mjs";
import { startSystem } from "./system.mjs";

if (process.env.SKIP_BUILD !== "1") {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "build.mjs")], { stdio: "inherit" });
}
const env = process.env;
const number = (v) => (v === undefined || v === "" ? undefined : Number(v));
const system = await startSystem({
  ports: { registry: number(env.REGISTRY_PORT) ?? 5080, mirror: number(env.MIRROR_PORT) ?? 5082 },
  mirror: {
    upstreams: env.MIRROR_UPSTREAMS,
    defaultUpstream: env.MIRROR_DEFAULT_UPSTREAM,
    tagTtl: number(env.MIRROR_TAG_TTL),
    anonymousLimit: number(env.MIRROR_RATE_LIMIT),
    windowSec: number(env.MIRROR_RATE_WINDOW),
  },
  stateDir: process.env.STATE_DIR,
  // Local development only: anyone may push and delete (the deployed default is read-only).
  writeAccess: "open",
  // STORAGE_METRICS=on adds an X-Storage-Ops header (R2 operations and bytes) to every response.
  storageMetrics: process.env.STORAGE_METRICS === "on",
});
const { registry, mirror } = system.urls;
const hostPort = new URL(registry).host;
console.log(`registry  ${registry}`);
console.log(`mirror    ${mirror}`);
console.log(`state     ${path.resolve(process.env.STATE_DIR ?? path.join(ROOT, ".state"))}`);
console.log(`writes    open to anyone (local development only)`);
console.log(`push      skopeo copy --dest-tls-verify=false oci:<dir>:<tag> docker://${hostPort}/<name>:<tag>`);
console.log(`ready`);

const stop = async () => {
  await system.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
