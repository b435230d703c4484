// `pnpm admin immutable add|list|remove`: immutable-tag rules on the registry's admin API (/admin/immutability).
import { request, table, UsageError } from "./http.mjs";

export const USAGE = `immutable add --repository <pattern> --tag <pattern>
immutable list
immutable remove <id>`;

/** Options of the immutable commands (node:util parseArgs), besides the global ones. */
export const OPTIONS = {
  repository: { type: "string" },
  tag: { type: "string" },
};

/**
 * @typedef {{ id: string, repository: string, tag: string, created: string }} Rule
 */

/**
 * Runs one immutable command and prints its result on stdout.
 * @param {import("./http.mjs").Target} target  the registry
 * @param {string[]} args  the command and its positionals, e.g. ["remove", "r1"]
 * @param {{ repository?: string, tag?: string, json?: boolean }} values
 */
export async function immutable(target, args, values) {
  const [command, id, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`unexpected arguments ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
  if (command !== "add" && (values.repository !== undefined || values.tag !== undefined)) {
    throw new UsageError(`--repository and --tag belong to \`immutable add\``);
  }
  switch (command) {
    case "add": {
      if (id !== undefined) throw new UsageError(`add takes --repository and --tag, not ${JSON.stringify(id)}`);
      if (!values.repository || !values.tag) throw new UsageError("add needs --repository <pattern> and --tag <pattern>");
      /** @type {Rule} */
      const rule = await request(target, "POST", "/admin/immutability", { repository: values.repository, tag: values.tag });
      if (values.json) console.log(JSON.stringify(rule, null, 2));
      else console.log(`added ${rule.id}: tags matching ${rule.tag} in ${rule.repository} can no longer be moved or deleted`);
      return;
    }
    case "list": {
      if (id !== undefined) throw new UsageError(`list takes no arguments (got ${JSON.stringify(id)})`);
      const answer = await request(target, "GET", "/admin/immutability");
      if (values.json) {
        console.log(JSON.stringify(answer, null, 2));
        return;
      }
      /** @type {Rule[]} */
      const rules = answer?.rules ?? [];
      if (rules.length === 0) console.log("no immutable-tag rules");
      else console.log(table(["ID", "REPOSITORY", "TAG", "CREATED"], rules.map((r) => [r.id, r.repository, r.tag, r.created])));
      return;
    }
    case "remove": {
      if (!id) throw new UsageError("remove needs a rule <id> (see `immutable list`)");
      await request(target, "DELETE", `/admin/immutability/${encodeURIComponent(id)}`);
      if (values.json) console.log(JSON.stringify({ id, removed: true }, null, 2));
      else console.log(`removed ${id}`);
      return;
    }
    case undefined:
      throw new UsageError("immutable needs a command: add, list or remove");
    default:
      throw new UsageError(`unknown immutable command ${JSON.stringify(command)} (add, list or remove)`);
  }
}
