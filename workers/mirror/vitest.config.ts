import path from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// The mirror worker inside workerd with its real local R2 and Durable Objects (cache, fill leases, pull
// counters). Upstreams are stand-ins the tests put in place of `fetch` (test/fake-upstream.ts); the mirror
// against a real upstream registry is tested end to end in test/e2e/mirror.test.ts.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: path.resolve(__dirname, "src/index.ts"),
      wrangler: { configPath: path.resolve(__dirname, "wrangler.toml") },
      // Tokens from the auth worker are tested end to end; here the AUTH binding only has to exist.
      miniflare: {
        bindings: { EDGE_CACHE: "off" },
        serviceBindings: { AUTH: () => new Response("no auth service in these tests", { status: 503 }) },
      },
    }),
  ],
  test: { name: "mirror", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
