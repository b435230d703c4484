/**
 * The client side of registry authentication, shared by everything that talks to another registry (the mirror
 * reading from its upstreams, replication writing to its targets): parsing a `WWW-Authenticate` challenge,
 * fetching a Bearer token from the challenge's realm with Basic credentials, and keeping tokens until they expire.
 * The HTTP exchange itself is the caller's (`send`), so each caller keeps its own time limits and error words.
 * Spec: Docker "Token Authentication Specification" (How to authenticate, Requesting a Token, Token Response
 * Fields); RFC 7235 §4.1 (WWW-Authenticate); RFC 7617 (Basic).
 */
import { BoundedMap } from "./bounded-map";

/** A parsed `WWW-Authenticate` challenge: the scheme (lowercased) and its auth-params (names lowercased). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * The first challenge of a `WWW-Authenticate` value, e.g. `Bearer realm="https://auth/token",service="reg",
 * scope="repository:a:pull"` → `{ scheme: "bearer", params: { realm, service, scope } }`. Quoted values may hold
 * commas and `\"`; unquoted tokens are accepted too. Returns undefined for a missing or empty header.
 */
export function parseAuthChallenge(header: string | null | undefined): AuthChallenge | undefined {
  const match = header ? /^\s*([A-Za-z][\w.+-]*)\s*(.*)$/s.exec(header) : null;
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const m of match[2]!.matchAll(/([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))/g)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

/** The `Authorization` value for Basic credentials, or undefined when there is no username. */
export function basicAuthorization(username?: string, password?: string): string | undefined {
  if (!username) return undefined;
  const bytes = new TextEncoder().encode(`${username}:${password ?? ""}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/**
 * A token could not be had from the realm: `status` (with the realm's headers, e.g. `Retry-After`) when it did not
 * answer 200, none when its answer was not a token (`cause`: what reading the body threw, if anything).
 */
export class TokenRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly headers?: Headers,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TokenRequestError";
  }
}

/** What answering one challenge needs. */
export interface ChallengeAnswer {
  /** The 401's `WWW-Authenticate` header (null when it sent none: Basic, if there are credentials). */
  challenge: string | null;
  /** The scopes to ask for, e.g. `["repository:a/b:pull,push", "repository:c/d:pull"]`. */
  scopes: readonly string[];
  username?: string;
  password?: string;
  /** Does the GET to the realm URL with these headers (the caller's time limits, redirects and errors apply). */
  send(url: string, headers: Record<string, string>): Promise<Response>;
}

/** A token is kept this long before its `expires_in`, so it is never sent in its last seconds. */
const EXPIRY_MARGIN_SECONDS = 10;

/**
 * Authorization values by a caller-chosen key (registry, credentials and scopes), kept until they expire; at most
 * `maxEntries` (oldest dropped) so a long-lived isolate does not grow with every repository it has seen.
 */
export class RegistryTokens {
  private readonly entries: BoundedMap<string, { authorization: string; expires: number }>;

  constructor(
    maxEntries = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.entries = new BoundedMap(maxEntries);
  }

  /** The kept Authorization value for `key`, or undefined when there is none or it has expired. */
  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expires > this.now()) return entry.authorization;
    if (entry) this.entries.delete(key);
    return undefined;
  }

  /**
   * Answers a 401: for a Bearer challenge with a realm, a token fetched from the realm (with `service` and each
   * scope as query parameters, and Basic credentials when given) and kept under `key` for its `expires_in` (60 s
   * when absent, at least 30 s, less a 10 s margin); for a Basic challenge (or none) the Basic credentials, kept
   * as well. Returns the Authorization value, or undefined when there is nothing to answer with (anonymous Basic).
   * Throws TokenRequestError when the realm does not answer 200 with a JSON `token` or `access_token`; whatever
   * `send` throws passes through.
   */
  async answer(key: string, a: ChallengeAnswer): Promise<string | undefined> {
    const basic = basicAuthorization(a.username, a.password);
    const challenge = parseAuthChallenge(a.challenge);
    if (challenge?.scheme !== "bearer" || !challenge.params.realm) {
      if (basic) this.entries.set(key, { authorization: basic, expires: Number.POSITIVE_INFINITY });
      return basic;
    }
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set("service", challenge.params.service);
    for (const scope of a.scopes) realm.searchParams.append("scope", scope);
    const res = await a.send(realm.toString(), basic ? { Authorization: basic } : {});
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new TokenRequestError(`the token service answered ${res.status}`, res.status, res.headers);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = await res.json();
    } catch (e) {
      throw new TokenRequestError("a token answer that is not JSON", undefined, undefined, { cause: e });
    }
    const token = typeof body?.token === "string" && body.token ? body.token : body?.access_token;
    if (typeof token !== "string" || !token) throw new TokenRequestError("a token answer without a token");
    const expiresIn = typeof body.expires_in === "number" ? body.expires_in : 60;
    const authorization = `Bearer ${token}`;
    const lifetime = Math.max(30, expiresIn) - EXPIRY_MARGIN_SECONDS;
    this.entries.set(key, { authorization, expires: this.now() + lifetime * 1000 });
    return authorization;
  }
}
