import { defineConfig } from "vitest/config";

// One vitest process runs every project: core in Node and in workerd, storage's pure parts in Node, the
// registry's HTTP table inside workerd, and the end-to-end suite in Node
// (which starts the system exactly like `pnpm start`).
export default defineConfig({
  test: {
    projects: [
      "packages/core/vitest.config.ts",
      "packages/core/vitest.workerd.config.ts",
      "packages/token/vitest.config.ts",
      "packages/replication/vitest.config.ts",
      "packages/storage/vitest.config.ts",
      "workers/auth/vitest.config.ts",
      "workers/registry/vitest.config.ts",
      "workers/mirror/vitest.config.ts",
      "test/vitest.config.ts",
      "test/architecture/vitest.config.ts",
    ],
  },
});
