#!/usr/bin/env node
// Robot accounts of the auth worker, from the command line (plain Node ESM, no dependencies). The same as
// `pnpm admin robots …` (scripts/admin/robots.mjs holds the logic); this path and its flags keep working.
//
//   node workers/auth/bin/robots.mjs create <name> --rule 'ci/*=pull,push' [--rule 'shared/lib=pull']
//                                    [--catalog] [--description TEXT] [--url URL] [--admin-token TOKEN]
//   node workers/auth/bin/robots.mjs list   [--url URL] [--admin-token TOKEN]
//   node workers/auth/bin/robots.mjs revoke <name> [--url URL] [--admin-token TOKEN]
//
// Defaults: --url from AUTH_URL (else http://127.0.0.1:5081), --admin-token from ADMIN_TOKEN (else "adminToken"
// in ${STATE_DIR:-.state}/auth-secrets.json). `create` prints the robot's secret ONCE: store it in your CI's
// secret store right away.
import { parseArgs } from "node:util";
import { run, UsageError } from "../../../scripts/admin/http.mjs";
import { OPTIONS, robots } from "../../../scripts/admin/robots.mjs";
import { adminToken } from "../../../scripts/admin/token.mjs";

const USAGE = `usage:
  robots.mjs create <name> --rule '<pattern>=<actions>' [--rule …] [--catalog] [--description TEXT]
  robots.mjs list
  robots.mjs revoke <name>
options: --url URL (env AUTH_URL, default http://127.0.0.1:5081), --admin-token TOKEN (env ADMIN_TOKEN), --json
rules: pattern "*", "org/*" (everything below org/) or "org/app"; actions from pull, push, delete, *
(also: pnpm admin robots …)`;

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        ...OPTIONS,
        url: { type: "string" },
        "admin-token": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return;
  }
  const { token, hint } = adminToken(values["admin-token"], "--admin-token");
  if (!token) throw new UsageError(`no admin token. ${hint}`, { showUsage: false });
  const url = values.url || process.env.AUTH_URL || "http://127.0.0.1:5081";
  await robots({ url, token, name: "auth service", urlHint: "--url URL (env AUTH_URL)", tokenHint: hint }, positionals, values);
}

await run("robots", main, USAGE);
