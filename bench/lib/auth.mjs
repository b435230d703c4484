// Docker token auth as a client does it: an unauthenticated request gets a 401 whose WWW-Authenticate challenge
// names the realm (the auth service's token endpoint) and the service; the client asks the realm for a token for
// `repository:<name>:<actions>` (anonymously, or with Basic credentials) and sends it as a Bearer.
import { expectStatus, request } from "./http.mjs";

/** `Bearer realm="…",service="…",scope="…"` → { realm, service, scope } */
export function parseChallenge(value) {
  const out = {};
  for (const m of String(value ?? "").matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
  if (!/^Bearer\s/i.test(String(value ?? "")) || !out.realm) throw new Error(`no Bearer challenge in ${JSON.stringify(value)}`);
  return out;
}

/**
 * A token for `repository:<repo>:<actions>` from the realm named by the registry's 401 challenge. `creds`:
 * { name, secret } for Basic auth (a robot), or none for an anonymous token.
 */
export async function fetchToken(base, repo, { actions = "pull", creds } = {}) {
  const probe = await request(`${base}/v2/${repo}/manifests/latest`, { method: "HEAD" });
  if (probe.status !== 401) throw new Error(`expected a 401 challenge from ${base}, got HTTP ${probe.status}`);
  const ch = parseChallenge(probe.headers["www-authenticate"]);
  const url = new URL(ch.realm);
  if (ch.service) url.searchParams.set("service", ch.service);
  url.searchParams.set("scope", `repository:${repo}:${actions}`);
  const headers = creds ? { Authorization: `Basic ${Buffer.from(`${creds.name}:${creds.secret}`).toString("base64")}` } : {};
  const res = expectStatus(await request(url.toString(), { headers }), 200, `token for ${repo} (${actions}${creds ? `, ${creds.name}` : ", anonymous"})`);
  const body = JSON.parse(res.body.toString("utf8"));
  const token = body.token ?? body.access_token;
  if (!token) throw new Error(`token endpoint answered no token: ${res.body.toString("utf8").slice(0, 200)}`);
  return token;
}

export const bearer = (token) => ({ Authorization: `Bearer ${token}` });

/** Authorization header of an anonymous pull of `repo` (what docker pull sends without a login). */
export async function anonymousPull(base, repo) {
  return bearer(await fetchToken(base, repo));
}

/** Authorization header of a push to `repo` by the local robot (start.mjs prints its secret). */
export async function robotPush(sys, repo) {
  return bearer(await fetchToken(sys.base, repo, { actions: "pull,push", creds: sys.robot }));
}
