import path from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// The registry worker inside workerd with the real local R2 (no storage mocks). Writes are opened the
// way `pnpm start` opens them; auth has its own tests.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: path.resolve(__dirname, "src/index.ts"),
      wrangler: { configPath: path.resolve(__dirname, "../../wrangler.toml") },
      // No AUTH_REALM here (token auth is tested end to end with the real auth worker: test/e2e/auth.test.ts),
      // so the AUTH binding is never called; it only has to exist.
      miniflare: {
        bindings: { WRITE_ACCESS: "open", AUTH_REALM: "", GC_TEST_HOOKS: "on" },
        serviceBindings: { AUTH: () => new Response("no auth service in these tests", { status: 503 }) },
      },
    }),
  ],
  test: { name: "registry", include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
