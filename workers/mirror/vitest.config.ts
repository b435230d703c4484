import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Pieces of the mirror that need workerd's platform APIs (the Cache API); the mirror as a whole is tested end
// to end against real upstreams in test/e2e/mirror.test.ts.
export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: { compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat"] },
    }),
  ],
  test: { name: "mirror", include: ["test/**/*.test.ts"] },
});
