// `pnpm admin replication …`: replication rules, runs by hand and the execution history on the registry's admin API
// (/admin/replication).
import { request, table, UsageError } from "./http.mjs";

export const USAGE = `replication add <repository-pattern> --target URL [--credentials SECRET_NAME] [--tags GLOB]
                 [--no-referrers] [--deletions] [--target-repository NAME|PREFIX/*]
                 copy pushes to matching repositories (tags matching GLOB, default *; with their signatures
                 and other referrers unless --no-referrers; deletions too with --deletions) to the registry
                 at URL, logging in with the worker secret SECRET_NAME ("username:password")
replication list
replication remove <id>
replication run <id> [<repository:tag>|<repository@digest>]
                 queue a copy of everything the rule covers, or of one reference
replication history [--last N]
                 the last executions: what, when, trigger, bytes, outcome, attempts, the target's error`;

/** Options of the replication commands (node:util parseArgs), besides the global ones. */
export const OPTIONS = {
  target: { type: "string" },
  credentials: { type: "string" },
  tags: { type: "string" },
  "no-referrers": { type: "boolean" },
  deletions: { type: "boolean" },
  "target-repository": { type: "string" },
  last: { type: "string" },
};

const ADD_ONLY = ["target", "credentials", "tags", "no-referrers", "deletions", "target-repository"];

/**
 * @typedef {{ id: string, repository: string, tags: string, referrers: boolean, deletions: boolean,
 *   target: { url: string, credentials: string | null }, targetRepository: string | null, created: string }} Rule
 * @typedef {{ id: string, rule: string, repository: string, reference: string, op: string, trigger: string,
 *   started: string, ended: string | null, bytes: number, outcome: string, attempts: number, error: string | null }} Execution
 */

/**
 * Runs one replication command and prints its result on stdout.
 * @param {import("./http.mjs").Target} target  the registry
 * @param {string[]} args  the positionals after `replication`
 * @param {Record<string, string | boolean | undefined>} values
 */
export async function replication(target, args, values) {
  const [command, arg, arg2, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`unexpected arguments ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
  const misplaced = ADD_ONLY.filter((key) => values[key] !== undefined);
  if (command !== "add" && misplaced.length > 0) throw new UsageError(`${misplaced.map((k) => `--${k}`).join(", ")} belong to \`replication add\``);
  if (command !== "history" && values.last !== undefined) throw new UsageError("--last belongs to `replication history`");
  switch (command) {
    case "add": {
      if (!arg) throw new UsageError("add needs a <repository-pattern> (*, org/* or a repository name)");
      if (arg2 !== undefined) throw new UsageError(`add takes one pattern (got ${JSON.stringify(arg2)} too)`);
      if (!values.target) throw new UsageError("add needs --target URL (the target registry, e.g. https://replica.example.com)");
      const body = { repository: arg, target: { url: values.target, credentials: values.credentials ?? null } };
      if (values.tags !== undefined) body.tags = values.tags;
      if (values["no-referrers"]) body.referrers = false;
      if (values.deletions) body.deletions = true;
      if (values["target-repository"] !== undefined) body.targetRepository = values["target-repository"];
      /** @type {Rule} */
      const rule = await request(target, "POST", "/admin/replication", body);
      if (values.json) console.log(JSON.stringify(rule, null, 2));
      else console.log(`added ${rule.id}: ${describe(rule)}`);
      return;
    }
    case "list": {
      if (arg !== undefined) throw new UsageError(`list takes no arguments (got ${JSON.stringify(arg)})`);
      const answer = await request(target, "GET", "/admin/replication");
      if (values.json) {
        console.log(JSON.stringify(answer, null, 2));
        return;
      }
      /** @type {Rule[]} */
      const rules = answer?.rules ?? [];
      const rows = rules.map((r) => [
        r.id,
        r.repository,
        r.tags,
        r.target.url + (r.targetRepository ? ` as ${r.targetRepository}` : ""),
        r.target.credentials ?? "-",
        r.referrers ? "yes" : "no",
        r.deletions ? "yes" : "no",
      ]);
      if (rules.length === 0) console.log("no replication rules");
      else console.log(table(["ID", "REPOSITORY", "TAGS", "TARGET", "CREDENTIALS", "REFERRERS", "DELETIONS"], rows));
      return;
    }
    case "remove": {
      if (!arg) throw new UsageError("remove needs a rule <id> (see `replication list`)");
      await request(target, "DELETE", `/admin/replication/${encodeURIComponent(arg)}`);
      if (values.json) console.log(JSON.stringify({ id: arg, removed: true }, null, 2));
      else console.log(`removed ${arg}`);
      return;
    }
    case "run": {
      if (!arg) throw new UsageError("run needs a rule <id> (see `replication list`), and optionally <repository:tag>");
      const body = arg2 === undefined ? { rule: arg } : { rule: arg, reference: arg2 };
      const answer = await request(target, "POST", "/admin/replication/run", body);
      if (values.json) console.log(JSON.stringify(answer, null, 2));
      else {
        const more = answer.truncated ? " (cut short: run it again for the rest)" : "";
        console.log(`queued ${answer.queued} ${answer.queued === 1 ? "copy" : "copies"}${more}; see \`pnpm admin replication history\``);
      }
      return;
    }
    case "history": {
      if (arg !== undefined) throw new UsageError(`history takes only --last N (got ${JSON.stringify(arg)})`);
      const n = values.last ?? "20";
      if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > 1000) throw new UsageError(`--last takes an integer from 1 to 1000 (got ${JSON.stringify(n)})`);
      const answer = await request(target, "GET", `/admin/replication/history?n=${n}`);
      if (values.json) {
        console.log(JSON.stringify(answer, null, 2));
        return;
      }
      /** @type {Execution[]} */
      const executions = answer?.executions ?? [];
      if (executions.length === 0) {
        console.log("no replication yet");
        return;
      }
      const rows = executions.map((e) => [
        e.started.replace("T", " ").slice(0, 19),
        e.rule,
        `${e.op === "delete" ? "delete " : ""}${e.repository}${e.reference.startsWith("sha256:") ? "@" : ":"}${e.reference}`,
        e.trigger,
        e.outcome,
        String(e.attempts),
        bytes(e.bytes),
        duration(e.started, e.ended),
        e.error ? e.error.replace(/\s+/g, " ").slice(0, 80) : "",
      ]);
      console.log(table(["STARTED", "RULE", "WHAT", "TRIGGER", "OUTCOME", "ATTEMPTS", "BYTES", "TOOK", "ERROR"], rows));
      return;
    }
    case undefined:
      throw new UsageError("replication needs a command: add, list, remove, run or history");
    default:
      throw new UsageError(`unknown replication command ${JSON.stringify(command)} (add, list, remove, run or history)`);
  }
}

/** A rule in words. */
function describe(rule) {
  const what = `${rule.repository} (tags ${rule.tags}${rule.referrers ? ", with referrers" : ", without referrers"}${rule.deletions ? ", deletions too" : ""})`;
  const to = `${rule.target.url}${rule.targetRepository ? ` as ${rule.targetRepository}` : ""}`;
  return `${what} → ${to}${rule.target.credentials ? ` with the secret ${rule.target.credentials}` : " anonymously"}`;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function duration(started, ended) {
  if (!ended) return "-";
  const ms = Date.parse(ended) - Date.parse(started);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
