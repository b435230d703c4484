import { DurableObject } from "cloudflare:workers";

/**
 * Replication's rules and its execution history (issue 11 §1), in one Durable Object (binding REPLICATION, named
 * "replication"). Strongly consistent: a rule added is seen by the next push's event check (after the isolates'
 * few-second cache of the rules). Rules are validated by the caller (replicationRuleProblem).
 *
 *   rules(id PK, repository, tags, referrers, deletions, target_url, credentials, target_repository, created)
 *   executions(id PK, rule, repository, reference, trigger, started, ended, bytes, outcome, attempts, error)
 */

/** Where a rule copies to: a registry's base URL and the name of the Worker secret holding "username:password". */
export interface ReplicationTarget {
  url: string;
  /** Name of a secret (or var) of the registry worker whose value is "username:password"; null = anonymous. */
  credentials: string | null;
}

/** A replication rule as the log keeps it. */
export interface ReplicationRule {
  id: string;
  /** Repository pattern (`*`, `org/*`, a name: core's isRepositoryPattern). */
  repository: string;
  /** Tag glob (core's isTagPattern), `*` by default. */
  tags: string;
  /** The referrer tree (signatures, SBOMs, attestations) comes along; default true. */
  referrers: boolean;
  /** Deletions are replicated too; default false. */
  deletions: boolean;
  target: ReplicationTarget;
  /** The name on the target: null = the same; `new/*` for a pattern rule (the prefix is replaced), a name otherwise. */
  targetRepository: string | null;
  created: string;
}

/** What a new rule says (the rest defaults). */
export interface ReplicationRuleInput {
  repository: string;
  tags?: string;
  referrers?: boolean;
  deletions?: boolean;
  target: ReplicationTarget;
  targetRepository?: string | null;
}

export type ReplicationTrigger = "push" | "schedule" | "manual";
export type ReplicationOutcome = "running" | "ok" | "failed" | "retrying";

/** One replication of one reference by one rule, across its attempts. */
export interface ReplicationExecution {
  id: string;
  rule: string;
  repository: string;
  reference: string;
  /** "copy" or "delete". */
  op: "copy" | "delete";
  trigger: ReplicationTrigger;
  started: string;
  ended: string | null;
  bytes: number;
  outcome: ReplicationOutcome;
  attempts: number;
  /** The target's message of the last failed attempt. */
  error: string | null;
}

/** The rules and history port (the Durable Object, or a fake in tests). */
export interface ReplicationStore {
  rules(): Promise<ReplicationRule[]>;
  rule(id: string): Promise<ReplicationRule | null>;
  /** Adds a rule; the same rule twice gives the existing one back. */
  addRule(input: ReplicationRuleInput): Promise<ReplicationRule>;
  removeRule(id: string): Promise<boolean>;
  /** Inserts or updates an execution (by id: attempts of the same execution update one row). */
  record(execution: ReplicationExecution): Promise<void>;
  /** The last `n` executions, newest first. */
  history(n: number): Promise<ReplicationExecution[]>;
}

/** Executions kept; older ones are dropped as new ones come. */
const HISTORY_LIMIT = 10_000;

export class ReplicationLog extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS rules (id TEXT PRIMARY KEY, repository TEXT NOT NULL, tags TEXT NOT NULL, referrers INTEGER NOT NULL,
        deletions INTEGER NOT NULL, target_url TEXT NOT NULL, credentials TEXT, target_repository TEXT, created TEXT NOT NULL)`,
    );
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, rule TEXT NOT NULL,
        repository TEXT NOT NULL, reference TEXT NOT NULL, op TEXT NOT NULL, trigger TEXT NOT NULL, started TEXT NOT NULL, ended TEXT,
        bytes INTEGER NOT NULL, outcome TEXT NOT NULL, attempts INTEGER NOT NULL, error TEXT)`,
    );
  }

  rules(): ReplicationRule[] {
    return this.sql.exec("SELECT * FROM rules ORDER BY created, id").toArray().map(ruleOf);
  }

  rule(id: string): ReplicationRule | null {
    const row = this.sql.exec("SELECT * FROM rules WHERE id = ?", id).toArray()[0];
    return row ? ruleOf(row) : null;
  }

  addRule(input: ReplicationRuleInput): ReplicationRule {
    const wanted = {
      repository: input.repository,
      tags: input.tags ?? "*",
      referrers: input.referrers ?? true,
      deletions: input.deletions ?? false,
      target: { url: input.target.url, credentials: input.target.credentials ?? null },
      targetRepository: input.targetRepository ?? null,
    };
    const key = (r: Omit<ReplicationRule, "id" | "created">) => JSON.stringify([r.repository, r.tags, r.referrers, r.deletions, r.target.url, r.target.credentials, r.targetRepository]);
    const existing = this.rules().find((r) => key(r) === key(wanted));
    if (existing) return existing;
    const rule: ReplicationRule = { id: crypto.randomUUID().slice(0, 8), ...wanted, created: new Date().toISOString() };
    this.sql.exec(
      "INSERT INTO rules (id, repository, tags, referrers, deletions, target_url, credentials, target_repository, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      rule.id,
      rule.repository,
      rule.tags,
      rule.referrers ? 1 : 0,
      rule.deletions ? 1 : 0,
      rule.target.url,
      rule.target.credentials,
      rule.targetRepository,
      rule.created,
    );
    return rule;
  }

  removeRule(id: string): boolean {
    return this.sql.exec("DELETE FROM rules WHERE id = ?", id).rowsWritten > 0;
  }

  record(e: ReplicationExecution): void {
    this.sql.exec(
      `INSERT INTO executions (id, rule, repository, reference, op, trigger, started, ended, bytes, outcome, attempts, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET ended = excluded.ended, bytes = excluded.bytes, outcome = excluded.outcome,
         attempts = MAX(attempts, excluded.attempts), error = excluded.error`,
      e.id,
      e.rule,
      e.repository,
      e.reference,
      e.op,
      e.trigger,
      e.started,
      e.ended,
      e.bytes,
      e.outcome,
      e.attempts,
      e.error,
    );
    this.sql.exec("DELETE FROM executions WHERE seq <= (SELECT MAX(seq) FROM executions) - ?", HISTORY_LIMIT);
  }

  history(n: number): ReplicationExecution[] {
    return this.sql
      .exec("SELECT * FROM executions ORDER BY seq DESC LIMIT ?", n)
      .toArray()
      .map((r) => ({
        id: r.id as string,
        rule: r.rule as string,
        repository: r.repository as string,
        reference: r.reference as string,
        op: r.op as ReplicationExecution["op"],
        trigger: r.trigger as ReplicationTrigger,
        started: r.started as string,
        ended: r.ended as string | null,
        bytes: r.bytes as number,
        outcome: r.outcome as ReplicationOutcome,
        attempts: r.attempts as number,
        error: r.error as string | null,
      }));
  }
}

function ruleOf(r: Record<string, SqlStorageValue>): ReplicationRule {
  return {
    id: r.id as string,
    repository: r.repository as string,
    tags: r.tags as string,
    referrers: r.referrers === 1,
    deletions: r.deletions === 1,
    target: { url: r.target_url as string, credentials: r.credentials as string | null },
    targetRepository: r.target_repository as string | null,
    created: r.created as string,
  };
}

/** The ReplicationStore port over the ReplicationLog object (one per registry, named "replication"). */
export class DoReplicationStore implements ReplicationStore {
  constructor(private readonly ns: DurableObjectNamespace<ReplicationLog>) {}

  private log(): DurableObjectStub<ReplicationLog> {
    return this.ns.get(this.ns.idFromName("replication"));
  }

  async rules(): Promise<ReplicationRule[]> {
    return this.log().rules();
  }

  async rule(id: string): Promise<ReplicationRule | null> {
    return this.log().rule(id);
  }

  async addRule(input: ReplicationRuleInput): Promise<ReplicationRule> {
    return this.log().addRule(input);
  }

  async removeRule(id: string): Promise<boolean> {
    return this.log().removeRule(id);
  }

  async record(execution: ReplicationExecution): Promise<void> {
    await this.log().record(execution);
  }

  async history(n: number): Promise<ReplicationExecution[]> {
    return this.log().history(n);
  }
}
