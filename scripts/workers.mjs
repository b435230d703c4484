// The workers of the system: their wrangler config and where their bundle goes.
// scripts/build.mjs bundles them, scripts/start.mjs and the tests run them.
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** name → { config, dist, port } (paths relative to the repository root; port = default public port). */
export const WORKERS = [
  { name: "registry", config: "wrangler.toml", dist: "workers/registry/dist", port: 5080 },
  { name: "mirror", config: "workers/mirror/wrangler.toml", dist: "workers/mirror/dist", port: 5082 },
];
