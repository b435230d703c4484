// The workers of the system: their wrangler config, where their bundle goes, their default public port.
// scripts/build.mjs bundles them, scripts/start.mjs and the tests run them. `worker` is the wrangler name
// (service bindings between workers name it).
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const WORKERS = [
  { name: "registry", worker: "edge-registry", config: "wrangler.toml", dist: "workers/registry/dist", port: 5080 },
  { name: "auth", worker: "edge-registry-auth", config: "workers/auth/wrangler.toml", dist: "workers/auth/dist", port: 5081 },
  { name: "mirror", worker: "edge-registry-mirror", config: "workers/mirror/wrangler.toml", dist: "workers/mirror/dist", port: 5082 },
];

// The `replica` of `pnpm start` (scripts/replica.mjs): a second instance of the registry, the same bundle under its
// own worker name and storage; not built separately.
export const REPLICA = { name: "replica", worker: "edge-registry-replica", config: "wrangler.toml", dist: "workers/registry/dist", port: 5083 };
