import { defineConfig } from "vitest/config";

// End-to-end: the system started exactly as `pnpm start` starts it, driven by real clients (skopeo).
export default defineConfig({
  test: {
    name: "e2e",
    include: ["e2e/**/*.test.ts"],
    environment: "node",
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
