import { defineConfig } from "vitest/config";

// The import rules of architecture.json, checked over every package's sources (Node, no runtime needed).
export default defineConfig({
  test: { name: "architecture", include: ["architecture.test.ts"], environment: "node" },
});
