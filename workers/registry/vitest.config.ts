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
      miniflare: { bindings: { WRITE_ACCESS: "open" } },
    }),
  ],
  test: { name: "registry", include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
