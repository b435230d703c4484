/**
 * Vite's `import.meta.glob`, used by core's own tests to read its source files in Node and in workerd alike
 * (only the form the tests use is declared).
 */
interface ImportMeta {
  glob(pattern: string, options: { query: "?raw"; import: "default"; eager: true }): Record<string, string>;
}
