#!/usr/bin/env node
// Robot accounts of the auth worker, from the command line (plain Node ESM, no dependencies).
//
//   node workers/auth/bin/robots.mjs create <name> --rule 'ci/*=pull,push' [--rule 'shared/lib=pull']
//                                    [--catalog] [--description TEXT] [--url URL] [--admin-token TOKEN]
//   node workers/auth/bin/robots.mjs list   [--url URL] [--admin-token TOKEN]
//   node workers/auth/bin/robots.mjs revoke <name> [--url URL] [--admin-token TOKEN]
//
// Defaults: --url from AUTH_URL (else http://127.0.0.1:5081), --admin-token from ADMIN_TOKEN.
// `create` prints the robot's secret ONCE: store it in your CI's secret store right away.
import { parseArgs } from "node:util";

const USAGE = `usage:
  robots.mjs create <name> --rule '<pattern>=<actions>' [--rule …] [--catalog] [--description TEXT]
  robots.mjs list
  robots.mjs revoke <name>
options: --url URL (env AUTH_URL, default http://127.0.0.1:5081), --admin-token TOKEN (env ADMIN_TOKEN), --json
rules: pattern "*", "org/*" (everything below org/) or "org/app"; actions from pull, push, delete, *`;

function fail(message) {
  console.error(`robots: ${message}`);
  process.exit(2);
}

/** 'ci/*=pull,push' → { repository: "ci/*", actions: ["pull", "push"] } */
function parseRule(text) {
  const eq = text.lastIndexOf("=");
  if (eq <= 0 || eq === text.length - 1) fail(`bad --rule ${JSON.stringify(text)} (expected '<pattern>=<action>[,<action>…]')`);
  return { repository: text.slice(0, eq), actions: text.slice(eq + 1).split(",").map((a) => a.trim()).filter(Boolean) };
}

async function request(options, method, path, body) {
  const headers = { Authorization: `Bearer ${options.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(new URL(path, options.url), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    fail(`cannot reach ${options.url}: ${e.cause?.message ?? e.message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      const error = JSON.parse(text).errors?.[0];
      if (error) message = `${error.code}: ${error.message}`;
    } catch {}
    fail(`${method} ${path} → ${res.status} ${message}`);
  }
  return text ? JSON.parse(text) : null;
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        url: { type: "string", default: process.env.AUTH_URL || "http://127.0.0.1:5081" },
        "admin-token": { type: "string", default: process.env.ADMIN_TOKEN || "" },
        rule: { type: "string", multiple: true, default: [] },
        description: { type: "string" },
        catalog: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    fail(`${e.message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, name] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const options = { url: values.url, token: values["admin-token"] };
  if (!options.token) fail("no admin token: pass --admin-token or set ADMIN_TOKEN");

  switch (command) {
    case "create": {
      if (!name) fail("create needs a <name>");
      if (values.rule.length === 0) fail("create needs at least one --rule");
      const body = { name, rules: values.rule.map(parseRule), catalog: values.catalog };
      if (values.description !== undefined) body.description = values.description;
      const robot = await request(options, "POST", "/admin/robots", body);
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
      const { robots } = await request(options, "GET", "/admin/robots");
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
      if (!name) fail("revoke needs a <name>");
      await request(options, "DELETE", `/admin/robots/${encodeURIComponent(name)}`);
      console.log(`revoked ${name.startsWith("robot$") ? name : `robot$${name}`} (logins and refresh tokens refused from now on)`);
      return;
    }
    default:
      fail(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

await main();
