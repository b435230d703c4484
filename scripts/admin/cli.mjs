#!/usr/bin/env node
// `pnpm admin <command>`: the registry's and the auth service's admin APIs from one command line.
// Plain Node 20 ESM, no dependencies; each command group is a module of this folder.
import { parseArgs } from "node:util";
import * as gcCommands from "./gc.mjs";
import { UsageError, run } from "./http.mjs";
import * as immutableCommands from "./immutable.mjs";
import * as policyCommands from "./policy.mjs";
import * as replicationCommands from "./replication.mjs";
import * as retentionCommands from "./retention.mjs";
import * as robotsCommands from "./robots.mjs";
import * as statsCommands from "./stats.mjs";
import { adminToken, secretsFile } from "./token.mjs";

const indent = (text) => text.replace(/^/gm, "  ");

const USAGE = `usage: pnpm admin [options] <command> …

commands
${indent(robotsCommands.USAGE)}
${indent(immutableCommands.USAGE)}
${indent(retentionCommands.USAGE)}
${indent(gcCommands.USAGE)}
${indent(policyCommands.USAGE)}
${indent(replicationCommands.USAGE)}
${indent(statsCommands.USAGE)}

options
  --registry URL   the registry (else env REGISTRY_URL, default http://127.0.0.1:5080)
  --auth URL       the auth service (else env AUTH_URL, default http://127.0.0.1:5081)
  --token TOKEN    the admin token (else env ADMIN_TOKEN, else "adminToken" in ${secretsFile()})
  --json           machine-readable output on stdout
  --help           this text

Exit codes: 0 done, 1 the API refused or could not be reached (or a run failed), 2 a mistake in the command line.`;

const GLOBAL = {
  registry: { type: "string" },
  auth: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** Command groups: their options, which service they talk to, and what runs them. */
const GROUPS = {
  robots: { options: robotsCommands.OPTIONS, service: "auth", run: robotsCommands.robots },
  immutable: { options: immutableCommands.OPTIONS, service: "registry", run: immutableCommands.immutable },
  retention: { options: retentionCommands.OPTIONS, service: "registry", run: retentionCommands.retention },
  gc: { options: gcCommands.OPTIONS, service: "registry", run: gcCommands.gc },
  policy: { options: policyCommands.OPTIONS, service: "registry", run: policyCommands.policy },
  replication: { options: replicationCommands.OPTIONS, service: "registry", run: replicationCommands.replication },
  stats: { options: statsCommands.OPTIONS, service: "registry", run: statsCommands.stats },
};

async function main() {
  let parsed;
  try {
    const options = { ...GLOBAL };
    for (const group of Object.values(GROUPS)) Object.assign(options, group.options);
    parsed = parseArgs({ allowPositionals: true, options });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const { values, positionals } = parsed;
  const [groupName, ...args] = positionals;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!groupName) throw new UsageError("expected a command");
  const group = GROUPS[groupName];
  if (!group) throw new UsageError(`unknown command ${JSON.stringify(groupName)} (${Object.keys(GROUPS).join(", ")})`);
  for (const key of Object.keys(values)) {
    if (!(key in GLOBAL) && !(key in group.options)) throw new UsageError(`--${key} is not an option of \`${groupName}\``);
  }
  const { token, hint } = adminToken(values.token, "--token");
  if (!token) throw new UsageError(`no admin token. ${hint}`, { showUsage: false });
  const target =
    group.service === "auth"
      ? { url: values.auth || process.env.AUTH_URL || "http://127.0.0.1:5081", name: "auth service", urlHint: "--auth URL (env AUTH_URL)" }
      : {
          url: values.registry || process.env.REGISTRY_URL || "http://127.0.0.1:5080",
          name: "registry",
          urlHint: "--registry URL (env REGISTRY_URL)",
        };
  await group.run({ ...target, token, tokenHint: hint }, args, values);
}

await run("admin", main, USAGE);
