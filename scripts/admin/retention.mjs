// `pnpm admin retention …`: retention rules and runs on the registry's admin API (/admin/retention).
import { request, table, UsageError } from "./http.mjs";
import { startAndFollow } from "./progress.mjs";

export const USAGE = `retention add <repository-pattern> [--keep-last N] [--keep-tags GLOB] [--keep-days D]
                 in matching repositories keep the N most recently pushed tags, tags matching GLOB, and
                 tags pushed or pulled within D days; a retention run removes every other tag
retention list
retention remove <id>
retention run [--dry-run]
                 apply the rules and follow the run (then \`gc --delete-untagged\` frees the space)`;

/** Options of the retention commands (node:util parseArgs), besides the global ones. */
export const OPTIONS = {
  "keep-last": { type: "string" },
  "keep-tags": { type: "string" },
  "keep-days": { type: "string" },
  "dry-run": { type: "boolean" },
};

/**
 * @typedef {{ id: string, repository: string, keepLast: number | null, keepTags: string | null, keepDays: number | null, created: string }} Rule
 */

/** What a rule keeps, in words. */
export function describeRule(rule) {
  const parts = [];
  if (rule.keepLast !== null) parts.push(`the last ${rule.keepLast} pushed`);
  if (rule.keepTags !== null) parts.push(`tags matching ${rule.keepTags}`);
  if (rule.keepDays !== null) parts.push(`tags pushed or pulled within ${rule.keepDays} days`);
  return parts.join(", ");
}

/**
 * Runs one retention command and prints its result on stdout.
 * @param {import("./http.mjs").Target} target  the registry
 * @param {string[]} args  the positionals after `retention`, e.g. ["add", "org/*"]
 * @param {Record<string, string | boolean | undefined>} values
 */
export async function retention(target, args, values) {
  const [command, arg, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`unexpected arguments ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
  const keeps = ["keep-last", "keep-tags", "keep-days"].filter((key) => values[key] !== undefined);
  if (command !== "add" && keeps.length > 0) throw new UsageError(`${keeps.map((k) => `--${k}`).join(", ")} belong to \`retention add\``);
  if (command !== "run" && values["dry-run"] !== undefined) throw new UsageError("--dry-run belongs to `retention run` (and `gc`)");
  switch (command) {
    case "add": {
      if (!arg) throw new UsageError("add needs a <repository-pattern> (*, org/* or a repository name)");
      if (keeps.length === 0) throw new UsageError("add needs at least one of --keep-last N, --keep-tags GLOB, --keep-days D");
      const body = { repository: arg };
      if (values["keep-last"] !== undefined) body.keepLast = number(values["keep-last"], "--keep-last", /^\d+$/, "an integer ≥ 0");
      if (values["keep-tags"] !== undefined) body.keepTags = values["keep-tags"];
      if (values["keep-days"] !== undefined) body.keepDays = number(values["keep-days"], "--keep-days", /^\d*\.?\d+$/, "a number of days > 0");
      /** @type {Rule} */
      const rule = await request(target, "POST", "/admin/retention", body);
      if (values.json) console.log(JSON.stringify(rule, null, 2));
      else console.log(`added ${rule.id}: in ${rule.repository} keep ${describeRule(rule)}; retention runs remove the other tags`);
      return;
    }
    case "list": {
      if (arg !== undefined) throw new UsageError(`list takes no arguments (got ${JSON.stringify(arg)})`);
      const answer = await request(target, "GET", "/admin/retention");
      if (values.json) {
        console.log(JSON.stringify(answer, null, 2));
        return;
      }
      /** @type {Rule[]} */
      const rules = answer?.rules ?? [];
      const dash = (v) => (v === null ? "-" : String(v));
      const rows = rules.map((r) => [r.id, r.repository, dash(r.keepLast), dash(r.keepTags), dash(r.keepDays), r.created]);
      if (rules.length === 0) console.log("no retention rules (every tag is kept)");
      else console.log(table(["ID", "REPOSITORY", "KEEP LAST", "KEEP TAGS", "KEEP DAYS", "CREATED"], rows));
      return;
    }
    case "remove": {
      if (!arg) throw new UsageError("remove needs a rule <id> (see `retention list`)");
      await request(target, "DELETE", `/admin/retention/${encodeURIComponent(arg)}`);
      if (values.json) console.log(JSON.stringify({ id: arg, removed: true }, null, 2));
      else console.log(`removed ${arg}`);
      return;
    }
    case "run": {
      if (arg !== undefined) throw new UsageError(`run takes only --dry-run (got ${JSON.stringify(arg)})`);
      await startAndFollow(target, "/admin/retention/run", { dryRun: Boolean(values["dry-run"]) }, values);
      return;
    }
    case undefined:
      throw new UsageError("retention needs a command: add, list, remove or run");
    default:
      throw new UsageError(`unknown retention command ${JSON.stringify(command)} (add, list, remove or run)`);
  }
}

function number(text, option, pattern, what) {
  const n = Number(text);
  if (!pattern.test(text) || !Number.isFinite(n) || (option === "--keep-days" && n <= 0)) {
    throw new UsageError(`${option} takes ${what} (got ${JSON.stringify(text)})`);
  }
  return n;
}
