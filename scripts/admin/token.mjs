// Where the admin token comes from: a flag, else env ADMIN_TOKEN, else `adminToken` in
// ${STATE_DIR:-.state}/auth-secrets.json, which `pnpm start` writes on its first run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The secrets file of the local system, as scripts/start.mjs places it. */
export function secretsFile() {
  const stateDir = path.resolve(process.env.STATE_DIR || path.join(ROOT, ".state"));
  return path.join(stateDir, "auth-secrets.json");
}

/**
 * The admin token and a sentence on where it comes from, for a 401.
 * @param {string | undefined} flagValue  the value of the token flag, if given
 * @param {string} flag                   the flag's spelling, e.g. "--token"
 * @returns {{ token: string, hint: string }}  token "" when there is none
 */
export function adminToken(flagValue, flag) {
  const file = secretsFile();
  const order = `The admin token comes from ${flag}, else env ADMIN_TOKEN, else "adminToken" in ${file} (written by \`pnpm start\`)`;
  const against = "and must equal the ADMIN_TOKEN the worker runs with (a deployed worker's secret: `wrangler secret put ADMIN_TOKEN`)";
  if (flagValue) return { token: flagValue, hint: `${order}; this one came from ${flag} ${against}.` };
  if (process.env.ADMIN_TOKEN) return { token: process.env.ADMIN_TOKEN, hint: `${order}; this one came from env ADMIN_TOKEN ${against}.` };
  let token = "";
  try {
    token = JSON.parse(readFileSync(file, "utf8")).adminToken ?? "";
  } catch {}
  const from = token ? `this one came from ${file} ${against}` : "none was found";
  return { token, hint: `${order}; ${from}.` };
}
