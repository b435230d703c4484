// `pnpm admin stats [<repository>]`: pull statistics from the registry's admin API (/admin/stats, issue 12 §2).
import { request, table, UsageError } from "./http.mjs";

export const USAGE = `stats [--n N] [--last NAME]                   repositories with tags, manifests, pulls (a catalog page; top pulled first)
stats <repository> [--n N] [--last TAG]      its tags with pulls, last pulled, pushed (most pulled first)`;

/** Options of the stats command (node:util parseArgs), besides the global ones. */
export const OPTIONS = {
  n: { type: "string" },
  last: { type: "string" },
};

const when = (ms) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "never");

/**
 * Runs `stats` and prints its tables (or the API's JSON with --json) on stdout.
 * @param {import("./http.mjs").Target} target  the registry
 * @param {string[]} args  [] or [<repository>]
 * @param {{ n?: string, last?: string, json?: boolean }} values
 */
export async function stats(target, args, values) {
  const [repository, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`stats takes at most one repository (got ${args.map((a) => JSON.stringify(a)).join(" ")})`);
  if (values.n !== undefined && !/^\d+$/.test(values.n)) throw new UsageError("--n must be a number");
  const query = new URLSearchParams();
  if (values.n !== undefined) query.set("n", values.n);
  if (values.last !== undefined) query.set("last", values.last);
  const qs = query.size > 0 ? `?${query}` : "";
  const path = repository ? `/admin/stats/${repository.split("/").map(encodeURIComponent).join("/")}${qs}` : `/admin/stats${qs}`;
  const answer = await request(target, "GET", path);
  if (values.json) {
    console.log(JSON.stringify(answer, null, 2));
    return;
  }
  const more = (next) => (next ? `\nmore: --last ${next}` : "");
  if (repository) {
    const { totals, tags, next } = answer;
    console.log(`${answer.repository}: ${totals.tags} tags, ${totals.manifests} manifests, ${totals.pulls} pulls`);
    const rows = [...tags].sort((a, b) => b.pulls - a.pulls || a.name.localeCompare(b.name));
    if (rows.length > 0) {
      console.log(
        `\n${table(
          ["TAG", "PULLS", "LAST PULLED (UTC)", "PUSHED (UTC)", "SIZE", "DIGEST"],
          rows.map((t) => [t.name, String(t.pulls), when(t.pulledAt), when(t.pushedAt), String(t.size), t.digest.slice(0, 19)]),
        )}`,
      );
    }
    if (next) console.log(more(next));
    return;
  }
  const { repositories, next } = answer;
  if (repositories.length === 0) {
    console.log("no repositories");
    return;
  }
  const rows = [...repositories].sort((a, b) => b.pulls - a.pulls || a.name.localeCompare(b.name));
  const sum = (key) => repositories.reduce((s, r) => s + r[key], 0);
  console.log(table(["REPOSITORY", "PULLS", "TAGS", "MANIFESTS"], rows.map((r) => [r.name, String(r.pulls), String(r.tags), String(r.manifests)])));
  console.log(`\n${repositories.length} repositories, ${sum("pulls")} pulls, ${sum("tags")} tags, ${sum("manifests")} manifests in this page${more(next)}`);
  console.log("pulls are recorded in batches: up to PULL_STATS_FLUSH seconds (60) late per isolate; request figures: README \"Logs, metrics and statistics\"");
}
