// `pnpm admin policy add|list|remove`: signature policies on the registry's admin API (/admin/policies).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { request, table, UsageError } from "./http.mjs";

export const USAGE = `policy add <repository-pattern> --key <cosign.pub> [--key …] [--audit]
policy list
policy remove <id>`;

/** Options of the policy commands (node:util parseArgs), besides the global ones. */
export const OPTIONS = {
  key: { type: "string", multiple: true },
  audit: { type: "boolean" },
};

/**
 * @typedef {{ kind: "cosign", pem: string }} TrustedKey
 * @typedef {{ id: string, repository: string, keys: TrustedKey[], enforce: boolean, created: string }} Policy
 */

/** A key's short fingerprint: SHA256 of its SPKI bytes (the PEM's base64 body), as `ssh-keygen -l` prints them. */
export function fingerprint(pem) {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return `SHA256:${createHash("sha256").update(Buffer.from(body, "base64")).digest("base64").replace(/=+$/, "").slice(0, 16)}`;
}

/**
 * Runs one policy command and prints its result on stdout.
 * @param {import("./http.mjs").Target} target  the registry
 * @param {string[]} args  the command and its positionals, e.g. ["add", "prod/*"]
 * @param {{ key?: string[], audit?: boolean, json?: boolean }} values
 */
export async function policy(target, args, values) {
  const [command, arg, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`unexpected arguments ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
  if (command !== "add" && (values.key !== undefined || values.audit !== undefined)) {
    throw new UsageError("--key and --audit belong to `policy add`");
  }
  switch (command) {
    case "add": {
      if (!arg) throw new UsageError("add needs a repository pattern: policy add <pattern> --key <cosign.pub>");
      if (!values.key?.length) throw new UsageError("add needs at least one --key <file.pem> (a cosign public key)");
      const keys = values.key.map((file) => {
        try {
          return { kind: "cosign", pem: readFileSync(file, "utf8") };
        } catch (e) {
          throw new UsageError(`cannot read the key file ${JSON.stringify(file)}: ${e.code ?? e.message}`, { showUsage: false });
        }
      });
      /** @type {Policy} */
      const added = await request(target, "POST", "/admin/policies", { repository: arg, keys, enforce: !values.audit });
      if (values.json) console.log(JSON.stringify(added, null, 2));
      else {
        const what = added.enforce ? "need" : "are logged (audit) unless they have";
        console.log(`added ${added.id}: pulls from ${added.repository} ${what} a valid cosign signature by one of ${added.keys.length} key(s)`);
      }
      return;
    }
    case "list": {
      if (arg !== undefined) throw new UsageError(`list takes no arguments (got ${JSON.stringify(arg)})`);
      const answer = await request(target, "GET", "/admin/policies");
      if (values.json) {
        console.log(JSON.stringify(answer, null, 2));
        return;
      }
      /** @type {Policy[]} */
      const policies = answer?.policies ?? [];
      if (policies.length === 0) console.log("no signature policies");
      else {
        const rows = policies.map((p) => [p.id, p.repository, p.enforce ? "enforce" : "audit", p.keys.map((k) => `${k.kind} ${fingerprint(k.pem)}`).join(", "), p.created]);
        console.log(table(["ID", "REPOSITORY", "MODE", "KEYS", "CREATED"], rows));
      }
      return;
    }
    case "remove": {
      if (!arg) throw new UsageError("remove needs a policy <id> (see `policy list`)");
      await request(target, "DELETE", `/admin/policies/${encodeURIComponent(arg)}`);
      if (values.json) console.log(JSON.stringify({ id: arg, removed: true }, null, 2));
      else console.log(`removed ${arg}`);
      return;
    }
    case undefined:
      throw new UsageError("policy needs a command: add, list or remove");
    default:
      throw new UsageError(`unknown policy command ${JSON.stringify(command)} (add, list or remove)`);
  }
}
