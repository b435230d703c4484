import { DurableObject } from "cloudflare:workers";
import type { ImmutableRule, PolicyStore } from "./ports";

/**
 * The registry's rules, in one Durable Object (binding POLICY, named "policy"): immutable-tag rules (and, as the
 * lifecycle work grows, retention rules and GC runs). Strongly consistent: a rule added is enforced by the next
 * push anywhere. Patterns are validated by the caller (core's isRepositoryPattern / isTagPattern).
 */
export class RegistryPolicy extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS immutable_rules (id TEXT PRIMARY KEY, repository TEXT NOT NULL, tag TEXT NOT NULL, created TEXT NOT NULL)",
    );
  }

  immutableRules(): ImmutableRule[] {
    return this.sql
      .exec("SELECT id, repository, tag, created FROM immutable_rules ORDER BY created, id")
      .toArray()
      .map((r) => ({ id: r.id as string, repository: r.repository as string, tag: r.tag as string, created: r.created as string }));
  }

  /** Adds a rule (the same repository and tag patterns twice give the existing rule back). */
  addImmutableRule(repository: string, tag: string): ImmutableRule {
    const existing = this.immutableRules().find((r) => r.repository === repository && r.tag === tag);
    if (existing) return existing;
    const rule = { id: crypto.randomUUID().slice(0, 8), repository, tag, created: new Date().toISOString() };
    this.sql.exec("INSERT INTO immutable_rules (id, repository, tag, created) VALUES (?, ?, ?, ?)", rule.id, repository, tag, rule.created);
    return rule;
  }

  removeImmutableRule(id: string): boolean {
    return this.sql.exec("DELETE FROM immutable_rules WHERE id = ?", id).rowsWritten > 0;
  }
}

/** The policy port over the RegistryPolicy object (one per registry, named "policy"). */
export class DoPolicyStore implements PolicyStore {
  constructor(private readonly ns: DurableObjectNamespace<RegistryPolicy>) {}

  private policy(): DurableObjectStub<RegistryPolicy> {
    return this.ns.get(this.ns.idFromName("policy"));
  }

  async immutableRules(): Promise<ImmutableRule[]> {
    return this.policy().immutableRules();
  }

  async addImmutableRule(repository: string, tag: string): Promise<ImmutableRule> {
    return this.policy().addImmutableRule(repository, tag);
  }

  async removeImmutableRule(id: string): Promise<boolean> {
    return this.policy().removeImmutableRule(id);
  }
}
