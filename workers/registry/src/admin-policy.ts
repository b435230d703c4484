import { isRepositoryPattern, parseCosignPublicKey, type TrustedKey } from "@registry/core";
import type { AdminDeps, Handler } from "./admin";
import { error, json, readObject } from "./admin-http";

/**
 * The admin API of signature policies (issue 11 §2; README "Signature policy"): pulls of repositories matching a
 * pattern need a valid cosign signature by one of the policy's keys (enforced), or are only logged when not
 * (audit, `"enforce": false`).
 *
 *   GET    /admin/policies        → 200 {"policies": [{id, repository, keys: [{kind, pem}], enforce, created}]}
 *   POST   /admin/policies        {"repository": "<pattern>", "keys": [{"kind": "cosign", "pem": "…"}] | ["<pem>"], "enforce"?: true}
 *                                 → 201 the policy; 400 naming what is wrong (the pattern, a key that does not parse)
 *   DELETE /admin/policies/<id>   → 204, or 404
 */

/** The policy routes of the admin route table (admin.ts). */
export const POLICY_ROUTES: [string, RegExp, Handler][] = [
  ["GET", /^\/admin\/policies$/, listPolicies],
  ["POST", /^\/admin\/policies$/, addPolicy],
  ["DELETE", /^\/admin\/policies\/([\w-]{1,64})$/, removePolicy],
];

export async function listPolicies(_request: Request, { policy }: AdminDeps): Promise<Response> {
  return json(200, { policies: await policy.signaturePolicies() });
}

export async function addPolicy(request: Request, { policy }: AdminDeps): Promise<Response> {
  const body = await readObject(request, ["repository", "keys", "enforce"]);
  if (typeof body === "string") return error(400, body);
  const { repository, keys, enforce = true } = body;
  if (typeof repository !== "string" || !isRepositoryPattern(repository)) {
    return error(400, 'repository must be "*", "org/*" or a repository name');
  }
  if (typeof enforce !== "boolean") return error(400, "enforce must be true or false");
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 20) return error(400, "keys must list 1 to 20 public keys");
  const trusted: TrustedKey[] = [];
  for (const [i, key] of keys.entries()) {
    const k: unknown = typeof key === "string" ? { kind: "cosign", pem: key } : key;
    const { kind, pem } = (typeof k === "object" && k !== null ? k : {}) as { kind?: unknown; pem?: unknown };
    if (kind !== "cosign") return error(400, `keys[${i}]: kind must be "cosign" (the only signature kind supported so far)`);
    if (typeof pem !== "string" || pem.length > 8192) return error(400, `keys[${i}]: pem must be a PEM public key`);
    try {
      await parseCosignPublicKey(pem);
    } catch (e) {
      return error(400, `keys[${i}]: ${(e as Error).message}`);
    }
    trusted.push({ kind, pem: pem.trim() });
  }
  return json(201, await policy.addSignaturePolicy({ repository, keys: trusted, enforce }));
}

export async function removePolicy(_request: Request, { policy }: AdminDeps, id: string): Promise<Response> {
  return (await policy.removeSignaturePolicy(id)) ? new Response(null, { status: 204 }) : error(404, `no policy ${id}`);
}
