import { defineConfig } from "vitest/config";

// Node-side tests of token verification: every known attack on a bearer JWT, refused.
export default defineConfig({
  test: { name: "token", root: import.meta.dirname, include: ["test/**/*.test.ts"], environment: "node" },
});
