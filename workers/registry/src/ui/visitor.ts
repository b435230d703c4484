import { allowedActions, type ServiceVerifier } from "@registry/token";

/**
 * Who is looking at the web page, and which repositories they may pull (issue 12 §1). The page holds no
 * registry token of its own: a signed-in visitor holds a refresh token of the auth service (POST /ui/api/session),
 * sent back as `Authorization: Bearer`; no header = anonymous. For each page of names the registry asks the auth
 * service (AUTH binding) once for one access token with a `repository:<name>:pull` scope per name — the refresh
 * grant for a signed-in visitor, an anonymous GET otherwise — verifies it with its own verifier, and keeps the
 * names it grants. So the page shows exactly what `docker pull` would be allowed, under the same rules.
 */
export interface Visitor {
  /** The names among `names` this visitor may pull, in the order given. */
  pullable(names: readonly string[]): Promise<string[]>;
}

/** The auth service's limit on scopes per token request (workers/auth grants.ts MAX_SCOPES). */
export const MAX_SCOPES_PER_TOKEN = 64;

/** The UI's OAuth client id at the auth service. */
export const UI_CLIENT_ID = "registry-web-page";

export interface AuthService {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** Everyone may pull everything: a registry without token auth (no AUTH_REALM; reads are open there). */
export const openVisitor: Visitor = { pullable: async (names) => [...names] };

/** The visitor behind `request` (its refresh token, or anonymous), checked through the auth service. */
export function tokenVisitor(request: Request, auth: AuthService, verifier: ServiceVerifier): Visitor {
  const header = request.headers.get("Authorization") ?? "";
  const refreshToken = /^Bearer (\S{1,256})$/.exec(header)?.[1];
  return {
    async pullable(names) {
      const out: string[] = [];
      for (let i = 0; i < names.length; i += MAX_SCOPES_PER_TOKEN) {
        const chunk = names.slice(i, i + MAX_SCOPES_PER_TOKEN);
        const token = await accessToken(auth, verifier.service, chunk, refreshToken);
        if (!token) continue;
        const claims = await verifier.verify(token);
        out.push(...chunk.filter((n) => allowedActions(claims, "repository", n).includes("pull")));
      }
      return out;
    },
  };
}

/** One access token for pulling `names`, from the auth service; null when it refuses (e.g. a revoked refresh token). */
async function accessToken(auth: AuthService, service: string, names: readonly string[], refreshToken?: string): Promise<string | null> {
  const scopes = names.map((n) => `repository:${n}:pull`);
  let response: Response;
  if (refreshToken) {
    const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, service, client_id: UI_CLIENT_ID });
    for (const s of scopes) form.append("scope", s);
    response = await auth.fetch("https://auth/token", { method: "POST", body: form });
  } else {
    const q = new URLSearchParams({ service });
    for (const s of scopes) q.append("scope", s);
    response = await auth.fetch(`https://auth/token?${q}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    if (response.status === 400 || response.status === 401) throw new VisitorError("sign-in expired or revoked: sign in again");
    throw new Error(`auth service answered ${response.status}`);
  }
  const body = (await response.json()) as { token?: string; access_token?: string };
  return body.access_token ?? body.token ?? null;
}

/** A credential the auth service refused: the page answers 401 and asks the visitor to sign in again. */
export class VisitorError extends Error {}

/**
 * Signs in at the auth service (the OAuth password grant, offline) from the address `client` (the visitor's
 * CF-Connecting-IP): the refresh token for `username`/`secret`, or null when the auth service refuses them.
 */
export async function signIn(auth: AuthService, service: string, username: string, secret: string, client: string | null): Promise<string | null> {
  const form = new URLSearchParams({ grant_type: "password", username, password: secret, service, client_id: UI_CLIENT_ID, access_type: "offline" });
  // The visitor's address, so the auth service throttles failed sign-ins per visitor, not all page sign-ins as one.
  const headers = client ? { "CF-Connecting-IP": client } : undefined;
  const response = await auth.fetch("https://auth/token", { method: "POST", body: form, ...(headers ? { headers } : {}) });
  if (!response.ok) {
    await response.body?.cancel();
    return null;
  }
  const body = (await response.json()) as { refresh_token?: string };
  return body.refresh_token ?? null;
}
