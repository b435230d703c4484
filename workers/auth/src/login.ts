/**
 * Authenticating an account by name and secret, throttled (see throttle.ts for the numbers).
 */
import { BoundedMap } from "@registry/core";
import type { AccountRecord, AccountStore } from "./account-store";
import type { Credentials } from "./credentials";
import { AuthError } from "./errors";
import type { Principal } from "./grants";
import { sha256Hex } from "./encoding";
import { MAX_SECRET_LENGTH, dummyHash, verifySecret } from "./passwords";
import type { Rule } from "./rules";

/** Longest account name looked up. */
export const MAX_USERNAME_LENGTH = 256;

/** The token endpoint's Basic challenge. */
function basicChallenge(realm: string): Record<string, string> {
  return { "WWW-Authenticate": `Basic realm="${realm.replace(/["\\]/g, "")}", charset="UTF-8"` };
}

/** The 401 of the token endpoint: a Basic challenge and the UNAUTHORIZED envelope (`invalid_grant` for OAuth2). */
export function unauthorized(realm: string, message = "invalid username or secret"): AuthError {
  return new AuthError("UNAUTHORIZED", { message, headers: basicChallenge(realm) });
}

/** A malformed `Authorization` on `POST /token`: 401 `invalid_client` with the Basic challenge (RFC 6749 §5.2). */
export function invalidClient(realm: string): AuthError {
  return new AuthError("INVALID_CLIENT", { message: "malformed Authorization header (expected Basic credentials)", headers: basicChallenge(realm) });
}

/** The 429 of a throttled login: TOOMANYREQUESTS with `Retry-After` in whole seconds (at least 1). */
export function tooManyAttempts(retryAfterMs: number): AuthError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AuthError("TOOMANYREQUESTS", { headers: { "Retry-After": String(seconds) }, detail: { retryAfterSeconds: seconds } });
}

/** How long, and for how many secrets, a successful PBKDF2 check is remembered per isolate. */
export const VERIFIED_CACHE = Object.freeze({ ttlMs: 5 * 60_000, maxEntries: 1000 });

/** `${stored hash}\n${sha256(secret)}` → when it was verified. Only successes, only in this isolate's memory. */
const verified = new BoundedMap<string, number>(VERIFIED_CACHE.maxEntries);

/**
 * `verifySecret`, skipping the PBKDF2 work (~16–30 ms of CPU) for a secret that matched this exact stored hash in
 * the last 5 minutes. Safe for revocation: the account (and so its current hash) is always read fresh from the
 * store, so a deleted account or a replaced secret never matches a remembered entry. A CI fetching many tokens
 * with the same robot secret pays the hashing once per isolate and 5 minutes.
 */
async function checkSecret(secret: string, stored: string): Promise<boolean> {
  const key = `${stored}\n${await sha256Hex(secret)}`;
  const at = verified.get(key);
  if (at !== undefined && Date.now() - at < VERIFIED_CACHE.ttlMs) return true;
  if (!(await verifySecret(secret, stored))) return false;
  verified.set(key, Date.now());
  return true;
}

/** The principal an account is: its subject, its rules after the anonymous ones, its catalog right. */
export function principalOf(account: AccountRecord, anonymousRules: readonly Rule[]): Principal {
  return { subject: account.name, rules: [...anonymousRules, ...account.rules], catalog: account.catalog };
}

/**
 * Checks credentials against the account store. Throws 429 TOOMANYREQUESTS while the (name, address) pair or
 * the address is blocked, 401 UNAUTHORIZED for an unknown name or wrong secret (same answer and timing for
 * both). Returns the account.
 */
export async function login(
  store: DurableObjectStub<AccountStore>,
  credentials: Credentials,
  address: string,
  realm: string,
): Promise<AccountRecord> {
  const { username, password } = credentials;
  if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_SECRET_LENGTH) throw unauthorized(realm);
  const start = await store.beginLogin(username, address);
  if (start.retryAfterMs > 0) throw tooManyAttempts(start.retryAfterMs);
  const account = start.account as AccountRecord | null;
  let ok = false;
  if (account) ok = await checkSecret(password, account.secretHash);
  else await verifySecret(password, await dummyHash()); // the same work as a real check: timing does not tell
  const wait = await store.finishLogin(username, address, ok);
  if (wait > 0) throw tooManyAttempts(wait);
  if (!ok || !account) throw unauthorized(realm);
  return account;
}
