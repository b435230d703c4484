/**
 * The auth worker's bindings (wrangler.toml) and the configuration read from them once per isolate.
 */
import { isPrivateSigningJwk, toPublicJwk, type JWK } from "@registry/token";
import type { AccountStore } from "./account-store";
import { anonymousPullRules, type Rule } from "./rules";

/** Bindings of the auth worker. */
export interface Env {
  /** Accounts, refresh tokens and failed-login counters (one SQLite Durable Object named "accounts"). */
  ACCOUNTS: DurableObjectNamespace<AccountStore>;
  /** The registry's service name: the only `service` tokens are issued for, and their `aud`. */
  SERVICE: string;
  /** The `iss` of every token (registries verify it). */
  ISSUER: string;
  /** Access token lifetime in seconds (60 … 86400). */
  TOKEN_TTL: string;
  /** Comma-separated repository patterns anyone may pull (`*` = all, empty = none). */
  ANONYMOUS_PULL?: string;
  /** Secret: JSON array of private ES256 JWKs with `kid`; the first signs, all are published. */
  SIGNING_KEYS?: string;
  /** Secret: bearer token of the admin API; empty or unset = admin API closed. */
  ADMIN_TOKEN?: string;
}

/** The configuration, parsed and checked. */
export interface Config {
  service: string;
  issuer: string;
  tokenTtlSec: number;
  anonymousRules: Rule[];
  /** Private keys; `signingKeys[0]` signs. */
  signingKeys: (JWK & { kid: string })[];
  /** The public halves of all signing keys, as the JWKS publishes them. */
  publicKeys: JWK[];
}

/** Refresh tokens live 30 days. */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

/** Parses SIGNING_KEYS; throws Error (a configuration mistake, logged as a 500) when unusable. */
export function parseSigningKeys(value: string | undefined): (JWK & { kid: string })[] {
  if (!value) throw new Error("SIGNING_KEYS is not set (secret: JSON array of private ES256 JWKs)");
  let keys: unknown;
  try {
    keys = JSON.parse(value);
  } catch {
    throw new Error("SIGNING_KEYS is not valid JSON");
  }
  if (!Array.isArray(keys) || keys.length === 0) throw new Error("SIGNING_KEYS must be a non-empty JSON array");
  const kids = new Set<string>();
  return keys.map((k, i) => {
    if (!isPrivateSigningJwk(k)) throw new Error(`SIGNING_KEYS[${i}] is not a private ES256 (EC P-256) JWK with a kid`);
    if (kids.has(k.kid)) throw new Error(`SIGNING_KEYS: duplicate kid ${JSON.stringify(k.kid)}`);
    kids.add(k.kid);
    return k;
  });
}

const parsed = new WeakMap<Env, Config>();

/** The configuration of these bindings (parsed once per env object). Throws Error when misconfigured. */
export function configOf(env: Env): Config {
  let config = parsed.get(env);
  if (config) return config;
  const ttl = Number(env.TOKEN_TTL);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86400) throw new Error("TOKEN_TTL must be an integer from 60 to 86400");
  if (!env.SERVICE || !env.ISSUER) throw new Error("SERVICE and ISSUER must be set");
  const signingKeys = parseSigningKeys(env.SIGNING_KEYS);
  config = {
    service: env.SERVICE,
    issuer: env.ISSUER,
    tokenTtlSec: ttl,
    anonymousRules: anonymousPullRules(env.ANONYMOUS_PULL),
    signingKeys,
    publicKeys: signingKeys.map(toPublicJwk),
  };
  parsed.set(env, config);
  return config;
}
