import { SELF, env } from "cloudflare:test";
import { JwksCache, verifyAccessToken, type AccessClaims } from "@registry/token";

export const BASE = "http://auth.test";
/** Must match vitest.config.ts (the test-only admin token). */
export const ADMIN = "test-admin-token-not-a-real-secret-0123456789";
export const SERVICE = env.SERVICE;
export const ISSUER = env.ISSUER;

let counter = 0;
/** A name no other test uses (tests share one Durable Object). */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** A distinct client address per call site, so throttling in one test never touches another. */
export function address(): string {
  const n = counter++;
  return `198.51.${(n >> 8) & 255}.${n & 255}`;
}

export function basic(username: string, password: string): string {
  return `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${username}:${password}`)))}`;
}

export interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
}

/** One request to the auth worker (its own fetch handler, in workerd). */
export function call({ method = "GET", path, headers = {}, body = null }: Call): Promise<Response> {
  return SELF.fetch(BASE + path, { method, headers, body });
}

/** An admin API call with the admin token. */
export function admin(method: string, path: string, body?: unknown, token = ADMIN): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "CF-Connecting-IP": "203.0.113.250" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return call({ method, path, headers, body: body === undefined ? null : JSON.stringify(body) });
}

/** Creates a robot; returns its full name and secret. */
export async function createRobot(rules: unknown, extra: Record<string, unknown> = {}): Promise<{ name: string; secret: string }> {
  const res = await admin("POST", "/admin/robots", { name: unique("ci"), rules, ...extra });
  if (res.status !== 201) throw new Error(`create robot: ${res.status} ${await res.text()}`);
  return (await res.json()) as { name: string; secret: string };
}

/** `GET /token` with these scopes and optional Basic credentials. */
export function getToken(scopes: string[], credentials?: { name: string; secret: string }, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const q = new URLSearchParams({ service: SERVICE, ...extra });
  for (const s of scopes) q.append("scope", s);
  const h: Record<string, string> = { "CF-Connecting-IP": address(), ...headers };
  if (credentials) h.Authorization = basic(credentials.name, credentials.secret);
  return call({ path: `/token?${q}`, headers: h });
}

/** `POST /token` with a form. */
export function postToken(form: Record<string, string>, headers: Record<string, string> = {}) {
  return call({
    method: "POST",
    path: "/token",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": address(), ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** A registry's view: the JWKS fetched over SELF, tokens verified with @registry/token. */
export function registryVerifier(fetchJwks: () => Promise<Response> = () => call({ path: "/.well-known/jwks.json" })) {
  const stats = { fetches: 0 };
  const keys = new JwksCache(
    async () => {
      stats.fetches++;
      return (await (await fetchJwks()).json()) as { keys: [] };
    },
    { minRefreshMs: 0 },
  );
  const verify = (token: string): Promise<AccessClaims> => verifyAccessToken(token, { keys, issuer: ISSUER, audience: SERVICE });
  return { verify, stats };
}

/** The claims of a token, unverified (for asserting what was granted; verification has its own tests). */
export function claimsOf(token: string): AccessClaims {
  const payload = token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)))) as AccessClaims;
}
