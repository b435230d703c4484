// Number formatting and table rows for the benchmark output.
// Units: throughput in MB/s (1 MB = 10^6 bytes), memory in MiB (2^20 bytes), latency in ms.

export const fmtRate = (bytesPerSec) => (bytesPerSec == null ? "n/a" : `${(bytesPerSec / 1e6).toFixed(0)} MB/s`);
export const fmtMiB = (bytes) => (bytes == null ? "n/a" : `${(bytes / 1048576).toFixed(0)} MiB`);
export const fmtMs = (ms) => {
  if (ms == null || Number.isNaN(ms)) return "n/a";
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
};
export const fmtS = (ms) => (ms == null ? "n/a" : `${(ms / 1000).toFixed(2)} s`);
export const fmtInt = (n) => (n == null ? "n/a" : Math.round(n).toLocaleString("en-US"));
export const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
export const fmtRatio = (r) => (r == null ? "n/a" : r.toFixed(2));

const LABEL = 44;
const COL = 42;

/** `label   ours X | distribution Y | ratio Z` (ratio = ours / distribution). */
export function row(label, ours, dist, r) {
  const l = label.length >= LABEL ? `${label} ` : label.padEnd(LABEL);
  return `${l}ours ${ours.padEnd(COL)}| distribution ${dist.padEnd(COL)}| ratio ${fmtRatio(r)}`;
}

export function heading(title, note) {
  const line = "=".repeat(Math.max(20, title.length + 4));
  return `\n${line}\n  ${title}\n${line}${note ? `\n${note}` : ""}`;
}

/** A plain table: rows of string cells, first row = header. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? "").length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}
