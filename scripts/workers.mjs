// The workers of the system: their wrangler config and where their bundle goes.
// scripts/build.mjs bundles them, scripts/start.mjs and the tests run them.
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** name → { config, dist } (paths relative to the repository root). */
export const WORKERS = [
  { name: "registry", config: "wrangler.toml", dist: "workers/registry/dist" },
];
