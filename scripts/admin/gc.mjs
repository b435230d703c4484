// `pnpm admin gc …`: garbage collection runs on the registry's admin API (/admin/gc, /admin/gc/runs).
import { ApiError, request, UsageError } from "./http.mjs";
import { historyTable, printRun, startAndFollow } from "./progress.mjs";

export const USAGE = `gc [--dry-run] [--delete-untagged] [--grace <duration>] [--upload-grace <duration>]
                 collect garbage and follow the run; a dry run lists what a real run would delete.
                 --grace: keep what was written within it (default 1h; 0 collects what was just deleted);
                 --upload-grace: sweep uploads idle for longer (default 24h). Durations: 0, 90s, 30m, 1h, 2d
gc history       the last runs, GC and retention
gc show <id>     one run with what it deleted (or would delete)`;

/** Options of the gc commands (node:util parseArgs), besides the global ones. */
export const OPTIONS = {
  "dry-run": { type: "boolean" },
  "delete-untagged": { type: "boolean" },
  grace: { type: "string" },
  "upload-grace": { type: "string" },
};

const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Seconds of a duration: a number of seconds, or with a unit s, m, h or d (`0`, `90s`, `30m`, `1.5h`, `2d`).
 * @param {string} text
 * @param {string} option  for the message, e.g. "--grace"
 */
export function parseDuration(text, option) {
  const match = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`${option} takes a duration like 0, 90s, 30m, 1h or 2d (got ${JSON.stringify(text)})`);
  return Math.round(Number(match[1]) * UNITS[match[2] || "s"] * 1000) / 1000;
}

/**
 * Runs one gc command.
 * @param {import("./http.mjs").Target} target  the registry
 * @param {string[]} args  the positionals after `gc`, e.g. ["show", "r1"]
 * @param {Record<string, string | boolean | undefined>} values
 */
export async function gc(target, args, values) {
  const [command, id, ...extra] = args;
  const runOptions = Object.keys(OPTIONS).filter((key) => values[key] !== undefined);
  if (command !== undefined && runOptions.length > 0) {
    throw new UsageError(`${runOptions.map((o) => `--${o}`).join(", ")} belong to \`gc\` itself, not \`gc ${command}\``);
  }
  switch (command) {
    case undefined: {
      const body = { dryRun: Boolean(values["dry-run"]), deleteUntagged: Boolean(values["delete-untagged"]) };
      if (values.grace !== undefined) body.graceSeconds = parseDuration(values.grace, "--grace");
      if (values["upload-grace"] !== undefined) body.uploadGraceSeconds = parseDuration(values["upload-grace"], "--upload-grace");
      await startAndFollow(target, "/admin/gc", body, values);
      return;
    }
    case "history": {
      if (id !== undefined) throw new UsageError(`history takes no arguments (got ${JSON.stringify(id)})`);
      const { runs } = await request(target, "GET", "/admin/gc/runs?n=20");
      if (values.json) console.log(JSON.stringify({ runs }, null, 2));
      else if (runs.length === 0) console.log("no runs yet: `pnpm admin gc --dry-run` starts one");
      else console.log(historyTable(runs));
      return;
    }
    case "show": {
      if (!id) throw new UsageError("show needs a run <id> (`pnpm admin gc history` lists them)");
      if (extra.length > 0) throw new UsageError(`unexpected arguments ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
      await printRun(target, await runById(target, id), values, { items: true });
      return;
    }
    default:
      throw new UsageError(`unknown gc command ${JSON.stringify(command)} (history or show; \`gc\` alone starts a run)`);
  }
}

/** A run, or an error that says where to find the ids. */
async function runById(target, id) {
  try {
    return await request(target, "GET", `/admin/gc/runs/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.body?.error?.startsWith("no run")) {
      throw new ApiError(`no run ${id}; \`pnpm admin gc history\` lists them`);
    }
    throw e;
  }
}
