/**
 * The auth service's public keys (its JWKS), fetched on demand and cached, as a jose key resolver.
 * Spec: Docker "Token Authentication Implementation" (the `kid` header names the signing key; the registry is
 * "supplied with the trusted public keys" and never calls the auth service per request); RFC 7517 (JWK Set).
 */
import { importJWK, type JWK } from "jose";
import { TokenError } from "./errors";

/** A JWK Set: `{ keys: [...] }`. */
export interface JwkSet {
  keys: JWK[];
}

/** Tuning of a `JwksCache`; `now` (milliseconds since the epoch) is for tests. */
export interface JwksCacheOptions {
  /** Refetch the set when it is older than this (default 5 minutes). */
  ttlMs?: number;
  /**
   * Never fetch more often than this (default 10 s), whatever tokens arrive: a flood of tokens naming unknown
   * `kid`s costs at most one fetch per interval, so garbage cannot hammer the auth service.
   */
  minRefreshMs?: number;
  now?: () => number;
}

/** Keeps only the public parts of a usable ES256 verification key, or null for anything else. */
function publicPart(jwk: JWK): JWK | null {
  if (typeof jwk !== "object" || jwk === null) return null;
  if (typeof jwk.kid !== "string" || jwk.kid === "") return null;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string") return null;
  if (jwk.alg !== undefined && jwk.alg !== "ES256") return null;
  if (jwk.use !== undefined && jwk.use !== "sig") return null;
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
}

/**
 * A cache of verification keys by `kid`. The set is fetched on first use, again when older than `ttlMs`, and
 * again when a token names an unknown `kid` — at most once per `minRefreshMs` in both cases, and one fetch at a
 * time. During a key rotation the set holds the old and the new key, so tokens signed by either verify.
 * Keys that are not ES256 (EC P-256) are ignored, and only their public parts are imported. When a refetch
 * fails the previous set stays in use (the auth service being down must not log every client out).
 */
export class JwksCache {
  readonly #fetchJwks: () => Promise<JwkSet>;
  readonly #ttlMs: number;
  readonly #minRefreshMs: number;
  readonly #now: () => number;
  #keys: Map<string, Promise<CryptoKey>> | undefined;
  #fetchedAt = -Infinity;
  #attemptedAt = -Infinity;
  #inflight: Promise<void> | undefined;

  constructor(fetchJwks: () => Promise<JwkSet>, { ttlMs = 300_000, minRefreshMs = 10_000, now = Date.now }: JwksCacheOptions = {}) {
    this.#fetchJwks = fetchJwks;
    this.#ttlMs = ttlMs;
    this.#minRefreshMs = minRefreshMs;
    this.#now = now;
  }

  /** The key resolver to hand to jose's `jwtVerify`: takes the protected header, needs its `kid`. */
  readonly resolve = async (header: { kid?: string | undefined }): Promise<CryptoKey> => {
    if (typeof header.kid !== "string" || header.kid === "") {
      throw new TokenError("TOKEN_INVALID", "token header names no key (kid)");
    }
    return this.getKey(header.kid);
  };

  /**
   * The verification key with this `kid`, refetching the set when stale or when the kid is unknown (rate-limited).
   * Throws `TokenError("TOKEN_INVALID")` when no such key is published (or no key set could ever be fetched).
   */
  async getKey(kid: string): Promise<CryptoKey> {
    if (this.#now() - this.#fetchedAt >= this.#ttlMs) await this.#refreshIfAllowed();
    let key = this.#keys?.get(kid);
    if (key === undefined) {
      await this.#refreshIfAllowed();
      key = this.#keys?.get(kid);
    }
    if (key === undefined) throw new TokenError("TOKEN_INVALID", "token is signed by an unknown key");
    try {
      return await key;
    } catch (cause) {
      throw new TokenError("TOKEN_INVALID", "published key cannot be imported", { cause });
    }
  }

  /** Fetches the set now (sharing a fetch already under way), unless the last attempt was under `minRefreshMs` ago. */
  async #refreshIfAllowed(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    if (this.#now() - this.#attemptedAt < this.#minRefreshMs) return;
    this.#attemptedAt = this.#now();
    this.#inflight = this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #refresh(): Promise<void> {
    let set: JwkSet;
    try {
      set = await this.#fetchJwks();
    } catch {
      return; // keep the previous keys; the next attempt is at most minRefreshMs away
    }
    if (typeof set !== "object" || set === null || !Array.isArray(set.keys)) return;
    const keys = new Map<string, Promise<CryptoKey>>();
    for (const jwk of set.keys) {
      const pub = publicPart(jwk);
      if (pub === null || keys.has(jwk.kid as string)) continue;
      const imported = importJWK(pub, "ES256") as Promise<CryptoKey>;
      imported.catch(() => undefined); // surfaced by getKey, never as an unhandled rejection
      keys.set(jwk.kid as string, imported);
    }
    this.#keys = keys;
    this.#fetchedAt = this.#now();
  }
}

/**
 * A JwksCache over the auth service's published keys, fetched through `service` (a Workers service binding,
 * or anything with a `fetch`) from `url`.
 */
export function serviceJwks(
  service: { fetch(input: string): Promise<Response> },
  url = "https://auth/.well-known/jwks.json",
): JwksCache {
  return new JwksCache(async () => {
    const res = await service.fetch(url);
    if (!res.ok) throw new Error(`JWKS ${url}: ${res.status}`);
    return (await res.json()) as JwkSet;
  });
}
