import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// The same core tables, run inside workerd: core must behave identically there.
export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: { compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat"] },
    }),
  ],
  test: { name: "core:workerd", include: ["test/**/*.test.ts"] },
});
