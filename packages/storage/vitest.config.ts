import { defineConfig } from "vitest/config";

// Node-side unit tests of storage's pure parts (the retention planner). The storage ports' contract suites run
// inside workerd with the real local R2 and Durable Objects: workers/registry/test/storage-contract.test.ts.
export default defineConfig({
  test: { name: "storage", root: import.meta.dirname, include: ["test/**/*.test.ts"], environment: "node" },
});
