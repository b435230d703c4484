import { env } from "cloudflare:test";
import { generateSigningKey, signAccessToken, type AccessEntry } from "@registry/token";
import worker, { type Env } from "../src/index";
import { BASE } from "./helpers";

/**
 * The registry worker with token auth switched on, inside workerd over the same local R2 and Durable Objects as
 * the other tests: its JWKS comes from a stand-in AUTH binding publishing a key made here, and `token` signs
 * access tokens with that key as the auth worker would.
 */
export interface TokenRegistry {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  token(access: AccessEntry[], expiresInSec?: number): Promise<string>;
}

/** The token endpoint the registry's challenges name in these tests. */
export const REALM = "http://auth.test/token";
const key = generateSigningKey("registry-test");

/** A token-auth registry; `vars` override the root wrangler.toml's (e.g. AUTH_MAX_TOKEN_LIFETIME). */
export function tokenRegistry(vars: Partial<Env> = {}): TokenRegistry {
  const authEnv: Env = {
    ...(env as unknown as Env),
    AUTH_REALM: REALM,
    AUTH_SERVICE: "edge-registry",
    AUTH_ISSUER: "edge-registry-auth",
    AUTH: { fetch: async () => Response.json({ keys: [(await key).publicJwk] }) } as unknown as Fetcher,
    ...vars,
  };
  return {
    fetch: (path, init) => worker.fetch(new Request(BASE + path, init), authEnv),
    async token(access, expiresInSec = 300) {
      const claims = { iss: "edge-registry-auth", sub: "robot$test", aud: "edge-registry", access };
      return (await signAccessToken((await key).privateJwk, claims, { expiresInSec })).token;
    },
  };
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** An access entry for a repository. */
export function repo(name: string, ...actions: string[]): AccessEntry {
  return { type: "repository", name, actions };
}
