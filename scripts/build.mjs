// Bundles every worker exactly as `wrangler deploy` would (dry run, no network) and records the
// Miniflare options wrangler derives from its config, so start.mjs and the tests need no wrangler at run time.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ROOT, WORKERS } from "./workers.mjs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");

for (const w of WORKERS) {
  const dist = path.join(ROOT, w.dist);
  mkdirSync(dist, { recursive: true });
  execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", dist, "-c", path.join(ROOT, w.config)], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, w.config));
  writeFileSync(path.join(dist, "miniflare.json"), JSON.stringify(workerOptions, null, 2));
}
console.log(`built ${WORKERS.map((w) => w.name).join(", ")}`);
