import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { name: "core:node", include: ["test/**/*.test.ts"], environment: "node" },
});
