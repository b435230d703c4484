/**
 * The accounts Durable Object (SQLite): robots and users with their hashed secrets and rules, refresh tokens
 * (stored as SHA-256 digests), and failed-login counters. One instance (named "accounts") holds everything, so
 * revocation and throttling are strongly consistent; password hashing happens in the calling worker, not here,
 * so this object only ever runs short SQL statements.
 *
 * Tables:
 *   accounts(name PK, kind 'robot'|'user', secret_hash, rules JSON, catalog 0|1, description, created_at)
 *   refresh_tokens(digest PK, subject, service, client_id, created_at, expires_at)   -- times in ms
 *   failures(key PK, count, last_failure_at, blocked_until)   -- key "pair:<subject>\n<address>" | "addr:<address>"
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env";
import type { Rule } from "./rules";
import { THROTTLE, afterFailure, retryAfterMs, type FailureCounter } from "./throttle";

/** Robots are machine accounts (`robot$<name>`, random secret); users have passwords. */
export type AccountKind = "robot" | "user";

/** An account as stored: `name` is the full subject (`robot$ci`, `alice`). */
export interface AccountRecord {
  name: string;
  kind: AccountKind;
  secretHash: string;
  rules: Rule[];
  catalog: boolean;
  description: string;
  createdAt: string;
}

/** An account as listed: everything but the secret hash. */
export type AccountSummary = Omit<AccountRecord, "secretHash">;

/** A refresh token's binding: one subject, one service, until `expiresAt` (ms). */
export interface RefreshTokenRecord {
  subject: string;
  service: string;
  clientId: string;
  expiresAt: number;
}

/** The start of a login: refused for `retryAfterMs` (> 0), or allowed with the account (null when unknown). */
export interface LoginStart {
  retryAfterMs: number;
  account: AccountRecord | null;
}

type Row = Record<string, SqlStorageValue>;

function toAccount(row: Row): AccountRecord {
  return {
    name: String(row.name),
    kind: row.kind === "robot" ? "robot" : "user",
    secretHash: String(row.secret_hash),
    rules: JSON.parse(String(row.rules)) as Rule[],
    catalog: row.catalog === 1,
    description: String(row.description ?? ""),
    createdAt: String(row.created_at),
  };
}

function summary({ secretHash: _hidden, ...rest }: AccountRecord): AccountSummary {
  return rest;
}

const pairKey = (subject: string, address: string) => `pair:${subject}\n${address}`;
const addressKey = (address: string) => `addr:${address}`;

/** The accounts store; every method is called over RPC from the worker. */
export class AccountStore extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS accounts (
        name TEXT PRIMARY KEY, kind TEXT NOT NULL, secret_hash TEXT NOT NULL, rules TEXT NOT NULL,
        catalog INTEGER NOT NULL DEFAULT 0, description TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS refresh_tokens (
        digest TEXT PRIMARY KEY, subject TEXT NOT NULL, service TEXT NOT NULL, client_id TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS refresh_tokens_subject ON refresh_tokens (subject);
      CREATE TABLE IF NOT EXISTS failures (
        key TEXT PRIMARY KEY, count INTEGER NOT NULL, last_failure_at INTEGER NOT NULL, blocked_until INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS failures_last ON failures (last_failure_at);
    `);
  }

  /** Adds an account; false (and nothing changed) if the name is taken. */
  createAccount(account: AccountRecord): boolean {
    const taken = this.#sql.exec("SELECT 1 FROM accounts WHERE name = ?", account.name).toArray().length > 0;
    if (taken) return false;
    this.#sql.exec(
      "INSERT INTO accounts (name, kind, secret_hash, rules, catalog, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      account.name, account.kind, account.secretHash, JSON.stringify(account.rules), account.catalog ? 1 : 0,
      account.description, account.createdAt,
    );
    return true;
  }

  /** The account with this subject name, or null. */
  getAccount(name: string): AccountRecord | null {
    const row = this.#sql.exec("SELECT * FROM accounts WHERE name = ?", name).toArray()[0];
    return row ? toAccount(row) : null;
  }

  /** Every account of a kind, by name, without secrets. */
  listAccounts(kind: AccountKind): AccountSummary[] {
    return this.#sql.exec("SELECT * FROM accounts WHERE kind = ? ORDER BY name", kind).toArray().map((r) => summary(toAccount(r)));
  }

  /** Deletes an account of this kind with its refresh tokens (login refused from now on); false if none. */
  deleteAccount(kind: AccountKind, name: string): boolean {
    const found = this.#sql.exec("SELECT 1 FROM accounts WHERE name = ? AND kind = ?", name, kind).toArray().length > 0;
    if (!found) return false;
    this.#sql.exec("DELETE FROM accounts WHERE name = ?", name);
    this.#sql.exec("DELETE FROM refresh_tokens WHERE subject = ?", name);
    return true;
  }

  /** Stores a refresh token's digest and binding; expired tokens are pruned on the way. */
  putRefreshToken(digest: string, record: RefreshTokenRecord): void {
    const now = Date.now();
    this.#sql.exec("DELETE FROM refresh_tokens WHERE expires_at <= ?", now);
    this.#sql.exec(
      "INSERT INTO refresh_tokens (digest, subject, service, client_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      digest, record.subject, record.service, record.clientId, now, record.expiresAt,
    );
  }

  /** The binding of a live refresh token, or null (unknown, revoked or expired). */
  getRefreshToken(digest: string): RefreshTokenRecord | null {
    const row = this.#sql.exec("SELECT * FROM refresh_tokens WHERE digest = ? AND expires_at > ?", digest, Date.now()).toArray()[0];
    if (!row) return null;
    return { subject: String(row.subject), service: String(row.service), clientId: String(row.client_id), expiresAt: Number(row.expires_at) };
  }

  /** Revokes every refresh token of a subject; returns how many there were. */
  revokeRefreshTokens(subject: string): number {
    return this.#sql.exec("DELETE FROM refresh_tokens WHERE subject = ?", subject).rowsWritten;
  }

  /**
   * Before checking a secret: refused for as long as the (subject, address) pair or the address is blocked,
   * otherwise the account (null if there is none).
   */
  beginLogin(subject: string, address: string): LoginStart {
    const wait = this.#blockedFor(subject, address, Date.now());
    if (wait > 0) return { retryAfterMs: wait, account: null };
    return { retryAfterMs: 0, account: this.getAccount(subject) };
  }

  /**
   * After checking a secret: a failure is counted for the pair and the address. Returns how long the caller must
   * wait — if the pair or address is blocked NOW (perhaps by concurrent failures) the attempt is refused even when
   * the secret was right, so parallel guesses learn nothing beyond the limit. A success with no block clears the
   * pair's counter.
   */
  finishLogin(subject: string, address: string, ok: boolean): number {
    const now = Date.now();
    const wait = this.#blockedFor(subject, address, now);
    if (!ok) {
      this.#sql.exec("DELETE FROM failures WHERE last_failure_at <= ?", now - THROTTLE.windowMs);
      this.#save(pairKey(subject, address), afterFailure(this.#load(pairKey(subject, address)), now, THROTTLE.pairFreeFailures));
      this.#save(addressKey(address), afterFailure(this.#load(addressKey(address)), now, THROTTLE.addressFreeFailures));
    } else if (wait === 0) {
      this.#sql.exec("DELETE FROM failures WHERE key = ?", pairKey(subject, address));
    }
    return wait;
  }

  #blockedFor(subject: string, address: string, now: number): number {
    return Math.max(
      retryAfterMs(this.#load(pairKey(subject, address)), now),
      retryAfterMs(this.#load(addressKey(address)), now),
    );
  }

  #load(key: string): FailureCounter | null {
    const row = this.#sql.exec("SELECT * FROM failures WHERE key = ?", key).toArray()[0];
    if (!row) return null;
    return { count: Number(row.count), lastFailureAt: Number(row.last_failure_at), blockedUntil: Number(row.blocked_until) };
  }

  #save(key: string, c: FailureCounter): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO failures (key, count, last_failure_at, blocked_until) VALUES (?, ?, ?, ?)",
      key, c.count, c.lastFailureAt, c.blockedUntil,
    );
  }
}
