// Lifecycle runs (garbage collection, retention) as `pnpm admin` shows them: start one (or follow the one under
// way), poll it with a progress bar, then a summary, its errors and its items. Plain Node 20 ESM.
import { ApiError, request, table } from "./http.mjs";

/** How often a running run is polled. */
const POLL_MS = 300;
const SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const BAR = 24;

/**
 * @typedef {{ manifests: number, tags: number, blobLinks: number, blobs: number, uploads: number, bytesFreed: number, errors: number }} Counts
 * @typedef {{ id: string, kind: "gc" | "retention", options: { dryRun: boolean } & Record<string, unknown>,
 *   status: "running" | "done" | "failed", phase: string, progress: { phase: string, done: number, total: number | null },
 *   started: string, ended: string | null, counts: Counts, errors: { item: string, error: string, at: string }[] }} Run
 * @typedef {{ kind: string, repository: string | null, ref: string, size: number }} Item
 */

/** `1.5 KiB`-style sizes. */
export function humanBytes(n) {
  if (!Number.isFinite(n)) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

/** How long a run took (or has been running): `850ms`, `12.3s`, `4m 05s`, `2h 03m`. */
export function runDuration(run, now = Date.now()) {
  const ms = (run.ended ? Date.parse(run.ended) : now) - Date.parse(run.started);
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const pad = (x) => String(x).padStart(2, "0");
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${pad(Math.floor(ms / 1000) % 60)}s`;
  return `${Math.floor(ms / 3_600_000)}h ${pad(Math.floor(ms / 60_000) % 60)}m`;
}

const what = (run) => `${run.kind === "gc" ? "garbage collection" : "retention"} run ${run.id}${run.options?.dryRun ? " (dry run)" : ""}`;

/** The command that shows a run again, for messages. */
const showHint = (id) => `\`pnpm admin gc show ${id}\``;

/**
 * Starts a run with `POST path body`, or follows the run already under way (409, said on stderr), until it ends;
 * then prints it (see printRun). Sets exit code 1 when the run failed.
 * @param {import("./http.mjs").Target} target
 * @param {string} path  /admin/gc or /admin/retention/run
 * @param {object} body
 * @param {{ json?: boolean }} values
 */
export async function startAndFollow(target, path, body, values) {
  let run;
  try {
    ({ run } = await request(target, "POST", path, body));
    console.error(`started ${what(run)}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409 && e.body?.run)) throw e;
    run = e.body.run;
    console.error(`a run is already under way, not starting another: following ${what(run)} instead (started ${run.started})`);
  }
  const done = await follow(target, run);
  await printRun(target, done, values, { items: values.json || done.options?.dryRun });
}

/**
 * Polls a run every POLL_MS until it is no longer running, showing its progress on stderr: a redrawn bar on a
 * terminal, one line per phase otherwise. Ctrl-C stops following (the run goes on). The run as it ended.
 * @param {import("./http.mjs").Target} target
 * @param {Run} run
 * @returns {Promise<Run>}
 */
export async function follow(target, run) {
  const tty = Boolean(process.stderr.isTTY);
  let lastPhase = null;
  let tick = 0;
  let failures = 0;
  const clear = () => tty && process.stderr.write("\r\x1b[2K");
  const onInterrupt = () => {
    clear();
    console.error(`stopped following run ${run.id}; it goes on in the registry: ${showHint(run.id)}`);
    process.exit(130);
  };
  process.once("SIGINT", onInterrupt);
  try {
    for (;;) {
      // Cut to the terminal's width: a wrapped line could not be redrawn in place.
      if (tty) process.stderr.write(`\r\x1b[2K${progressLine(run, tick++).slice(0, (process.stderr.columns || 120) - 1)}`);
      else if (run.phase !== lastPhase) console.error(`${run.kind} ${run.id}: ${run.phase}`);
      lastPhase = run.phase;
      if (run.status !== "running") break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      try {
        run = await request(target, "GET", `/admin/gc/runs/${encodeURIComponent(run.id)}`);
        failures = 0;
      } catch (e) {
        // A blip of the network is waited out; anything else ends the following, not the run.
        if (e instanceof ApiError && e.status === undefined && ++failures < 10) continue;
        clear();
        throw new ApiError(`${e.message} (run ${run.id} goes on in the registry: ${showHint(run.id)})`);
      }
    }
  } finally {
    process.removeListener("SIGINT", onInterrupt);
    clear();
  }
  return run;
}

/** One line of progress: phase, bar and done/total (a spinner and the count when the total is unknown), counts. */
function progressLine(run, tick) {
  const { done, total } = run.progress ?? { done: 0, total: null };
  const c = run.counts;
  let where;
  if (run.status !== "running") where = run.status;
  else if (total) {
    const filled = Math.min(BAR, Math.round((done / total) * BAR));
    where = `[${"#".repeat(filled)}${"-".repeat(BAR - filled)}] ${done}/${total}`;
  } else where = `${SPINNER[tick % SPINNER.length]} ${done}`;
  const counts = `manifests ${c.manifests} · tags ${c.tags} · blobs ${c.blobs} · uploads ${c.uploads} · ${humanBytes(c.bytesFreed)}`;
  const errors = c.errors ? ` · ${c.errors} errors` : "";
  return `${run.kind} ${run.id} ${run.phase.padEnd(12)} ${where}  ${counts}${errors}`;
}

/**
 * Every item of a run, page by page.
 * @returns {Promise<Item[]>}
 */
export async function allItems(target, id) {
  const items = [];
  let after = 0;
  for (;;) {
    const page = await request(target, "GET", `/admin/gc/runs/${encodeURIComponent(id)}/items?after=${after}&n=1000`);
    items.push(...(page?.items ?? []));
    if (page?.next === null || page?.next === undefined) return items;
    after = page.next;
  }
}

/**
 * Prints a run: with --json the run and its `items` as one JSON object on stdout (nothing else there); otherwise
 * a summary table, its errors and, when `items` is asked for, what it deleted (or, dry, would delete).
 * @param {{ items?: boolean }} options
 */
export async function printRun(target, run, values, { items: withItems = false } = {}) {
  const items = withItems ? await allItems(target, run.id) : null;
  if (run.status === "failed") process.exitCode = 1;
  if (values.json) {
    console.log(JSON.stringify({ ...run, items: items ?? [] }, null, 2));
    return;
  }
  console.log(summary(run));
  if (run.errors?.length) {
    const more = run.counts.errors > run.errors.length ? ` (the first ${run.errors.length} of ${run.counts.errors})` : "";
    console.log(`\nerrors${more}:\n${table(["ITEM", "ERROR", "AT"], run.errors.map((e) => [e.item, e.error, e.at]))}`);
  }
  if (!items) {
    const n = run.counts.manifests + run.counts.tags + run.counts.blobLinks + run.counts.blobs + run.counts.uploads;
    if (n > 0) console.log(`\n${showHint(run.id)} lists what it deleted.`);
    return;
  }
  const verb = run.options?.dryRun ? "would delete" : run.status === "running" ? "has deleted so far" : "deleted";
  if (items.length === 0) console.log(`\nit ${verb} nothing`);
  else {
    const rows = items.map((i) => [i.kind, i.repository ?? "-", i.ref, i.size ? humanBytes(i.size) : "-"]);
    console.log(`\nit ${verb} ${items.length} items:\n${table(["KIND", "REPOSITORY", "REF", "SIZE"], rows)}`);
  }
}

/** The summary table of a run. */
function summary(run) {
  const c = run.counts;
  const dry = run.options?.dryRun;
  const options = Object.entries(run.options ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const rows = [
    ["status", `${run.status}${run.status === "running" ? ` (${run.phase})` : ""}`],
    ["options", options],
    ["started", run.started],
    ["duration", runDuration(run)],
    [dry ? "manifests (would delete)" : "manifests deleted", c.manifests],
    [dry ? "tags (would remove)" : "tags removed", c.tags],
    [dry ? "blob links (would remove)" : "blob links removed", c.blobLinks],
    [dry ? "blobs (would delete)" : "blobs deleted", c.blobs],
    [dry ? "uploads (would sweep)" : "uploads swept", c.uploads],
    [dry ? "bytes (would free)" : "bytes freed", `${humanBytes(c.bytesFreed)} (${c.bytesFreed} bytes)`],
    ["errors", c.errors],
  ];
  if (run.ops) {
    const o = run.ops;
    const kv = o.kvWrites === undefined ? "" : ` · KV ${o.kvWrites} writes`;
    rows.push(["storage operations", `${o.doCalls} object calls · R2 ${o.classA} class A, ${o.classB} class B, ${o.deletes} deletes${kv}`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return [what(run), ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n");
}

/** The table of recent runs (`gc history`). */
export function historyTable(runs) {
  const rows = runs.map((r) => [
    r.id,
    r.kind,
    r.options?.dryRun ? "dry" : "",
    r.started,
    runDuration(r),
    r.status,
    r.counts.manifests,
    r.counts.tags,
    r.counts.blobs,
    r.counts.uploads,
    humanBytes(r.counts.bytesFreed),
    r.counts.errors,
  ]);
  const header = ["ID", "KIND", "DRY", "STARTED", "DURATION", "STATUS", "MANIFESTS", "TAGS", "BLOBS", "UPLOADS", "FREED", "ERRORS"];
  return table(header, rows);
}
