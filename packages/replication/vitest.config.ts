import { defineConfig } from "vitest/config";

// Node-side tests of the replication copy engine: a fake target registry over fetch, and Debian's docker-registry.
export default defineConfig({
  test: { name: "replication", root: import.meta.dirname, include: ["test/**/*.test.ts"], environment: "node", testTimeout: 20_000 },
});
