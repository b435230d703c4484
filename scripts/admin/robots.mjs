// `pnpm admin robots create|list|revoke`: robot accounts on the auth worker's admin API (workers/auth/README.md).
// Also behind workers/auth/bin/robots.mjs, which keeps its old flags (--url, --admin-token).
import { request, UsageError } from "./http.mjs";

export const USAGE = `robots create <name> --rule '<pattern>=<actions>' [--rule …] [--catalog] [--description TEXT]
robots list
robots revoke <name>
rules: pattern "*", "org/*" (everything below org/) or "org/app"; actions from pull, push, delete, *
create prints the robot's secret ONCE: store it in your CI's secret store right away`;

/** Options of the robots commands (node:util parseArgs), besides the global ones. */
export const OPTIONS = {
  rule: { type: "string", multiple: true },
  description: { type: "string" },
  catalog: { type: "boolean" },
};

/** 'ci/*=pull,push' → { repository: "ci/*", actions: ["pull", "push"] } */
function parseRule(text) {
  const eq = text.lastIndexOf("=");
  if (eq <= 0 || eq === text.length - 1) {
    throw new UsageError(`bad --rule ${JSON.stringify(text)} (expected '<pattern>=<action>[,<action>…]')`);
  }
  return {
    repository: text.slice(0, eq),
    actions: text
      .slice(eq + 1)
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean),
  };
}

/**
 * Runs one robots command and prints its result on stdout.
 * @param {import("./http.mjs").Target} target  the auth service
 * @param {string[]} args  the command and its positionals, e.g. ["create", "ci"]
 * @param {{ rule?: string[], description?: string, catalog?: boolean, json?: boolean }} values
 */
export async function robots(target, args, values) {
  const [command, name, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`unexpected arguments ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
  const rules = values.rule ?? [];
  switch (command) {
    case "create": {
      if (!name) throw new UsageError("create needs a <name>");
      if (rules.length === 0) throw new UsageError("create needs at least one --rule");
      const body = { name, rules: rules.map(parseRule), catalog: values.catalog === true };
      if (values.description !== undefined) body.description = values.description;
      const robot = await request(target, "POST", "/admin/robots", body);
      if (values.json) {
        console.log(JSON.stringify(robot, null, 2));
      } else {
        console.log(`created ${robot.name}`);
        for (const r of robot.rules) console.log(`  ${r.repository} = ${r.actions.join(",")}`);
        if (robot.catalog) console.log("  registry catalog");
        console.log(`\nusername: ${robot.name}\nsecret:   ${robot.secret}\n`);
        console.log("The secret is shown only now. Example: docker login -u 'robot$…' --password-stdin <registry>");
      }
      return;
    }
    case "list": {
      if (name !== undefined) throw new UsageError(`list takes no arguments (got ${JSON.stringify(name)})`);
      const { robots } = await request(target, "GET", "/admin/robots");
      if (values.json) {
        console.log(JSON.stringify(robots, null, 2));
        return;
      }
      if (robots.length === 0) console.log("no robots");
      for (const r of robots) {
        const rules = r.rules.map((x) => `${x.repository}=${x.actions.join(",")}`).join(" ");
        console.log(`${r.name}\t${rules}${r.catalog ? " catalog" : ""}\t${r.createdAt}${r.description ? `\t${r.description}` : ""}`);
      }
      return;
    }
    case "revoke": {
      if (!name) throw new UsageError("revoke needs a <name>");
      await request(target, "DELETE", `/admin/robots/${encodeURIComponent(name)}`);
      console.log(`revoked ${name.startsWith("robot$") ? name : `robot$${name}`} (logins and refresh tokens refused from now on)`);
      return;
    }
    case undefined:
      throw new UsageError("robots needs a command: create, list or revoke");
    default:
      throw new UsageError(`unknown robots command ${JSON.stringify(command)} (create, list or revoke)`);
  }
}
