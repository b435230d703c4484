import { DurableObject } from "cloudflare:workers";
import type { RetentionRule } from "./lifecycle-types";
import type { ImmutableRule, PolicyStore } from "./ports";
import type { RetentionRuleInput } from "./retention";
import type { SignaturePolicy, SignaturePolicyInput } from "./signature-policy";

/**
 * The registry's rules, in one Durable Object (binding POLICY, named "policy"): immutable-tag rules, retention
 * rules and signature policies. Strongly consistent: a rule added is enforced by the next push anywhere (a
 * signature policy by the next pull, within the isolates' few seconds of caching: DoPolicyStore). Rules are
 * validated by the caller (core's isRepositoryPattern / isTagPattern; retentionRuleProblem; parseCosignPublicKey).
 */
export class RegistryPolicy extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS immutable_rules (id TEXT PRIMARY KEY, repository TEXT NOT NULL, tag TEXT NOT NULL, created TEXT NOT NULL)",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS retention_rules (id TEXT PRIMARY KEY, repository TEXT NOT NULL, keep_last INTEGER, keep_tags TEXT, keep_days REAL, created TEXT NOT NULL)",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS signature_policies (id TEXT PRIMARY KEY, repository TEXT NOT NULL, keys TEXT NOT NULL, enforce INTEGER NOT NULL, created TEXT NOT NULL)",
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

  retentionRules(): RetentionRule[] {
    return this.sql
      .exec("SELECT id, repository, keep_last, keep_tags, keep_days, created FROM retention_rules ORDER BY created, id")
      .toArray()
      .map((r) => ({
        id: r.id as string,
        repository: r.repository as string,
        keepLast: r.keep_last as number | null,
        keepTags: r.keep_tags as string | null,
        keepDays: r.keep_days as number | null,
        created: r.created as string,
      }));
  }

  /** Adds a retention rule (the same rule twice gives the existing one back); validated by the caller (retentionRuleProblem). */
  addRetentionRule(input: RetentionRuleInput): RetentionRule {
    const wanted = {
      repository: input.repository,
      keepLast: input.keepLast ?? null,
      keepTags: input.keepTags ?? null,
      keepDays: input.keepDays ?? null,
    };
    const same = (r: RetentionRule) =>
      r.repository === wanted.repository && r.keepLast === wanted.keepLast && r.keepTags === wanted.keepTags && r.keepDays === wanted.keepDays;
    const existing = this.retentionRules().find(same);
    if (existing) return existing;
    const rule = { id: crypto.randomUUID().slice(0, 8), ...wanted, created: new Date().toISOString() };
    this.sql.exec(
      "INSERT INTO retention_rules (id, repository, keep_last, keep_tags, keep_days, created) VALUES (?, ?, ?, ?, ?, ?)",
      rule.id,
      rule.repository,
      rule.keepLast,
      rule.keepTags,
      rule.keepDays,
      rule.created,
    );
    return rule;
  }

  removeRetentionRule(id: string): boolean {
    return this.sql.exec("DELETE FROM retention_rules WHERE id = ?", id).rowsWritten > 0;
  }

  signaturePolicies(): SignaturePolicy[] {
    return this.sql
      .exec("SELECT id, repository, keys, enforce, created FROM signature_policies ORDER BY created, id")
      .toArray()
      .map((r) => ({
        id: r.id as string,
        repository: r.repository as string,
        keys: JSON.parse(r.keys as string) as SignaturePolicy["keys"],
        enforce: r.enforce === 1,
        created: r.created as string,
      }));
  }

  /** Adds a signature policy (the same pattern, keys and mode twice give the existing one back); validated by the caller. */
  addSignaturePolicy(input: SignaturePolicyInput): SignaturePolicy {
    const keys = JSON.stringify(input.keys.map((k) => ({ kind: k.kind, pem: k.pem })));
    const existing = this.signaturePolicies().find(
      (p) => p.repository === input.repository && p.enforce === input.enforce && JSON.stringify(p.keys) === keys,
    );
    if (existing) return existing;
    const policy = { id: crypto.randomUUID().slice(0, 8), repository: input.repository, keys: JSON.parse(keys), enforce: input.enforce, created: new Date().toISOString() };
    this.sql.exec(
      "INSERT INTO signature_policies (id, repository, keys, enforce, created) VALUES (?, ?, ?, ?, ?)",
      policy.id,
      policy.repository,
      keys,
      policy.enforce ? 1 : 0,
      policy.created,
    );
    return policy;
  }

  removeSignaturePolicy(id: string): boolean {
    return this.sql.exec("DELETE FROM signature_policies WHERE id = ?", id).rowsWritten > 0;
  }
}

/**
 * How long an isolate reuses the signature policies it read (every manifest GET needs them): a policy added or
 * removed elsewhere takes effect in other isolates within this many milliseconds; the isolate that made the
 * change (the admin API's) forgets its copy at once.
 */
export const SIGNATURE_POLICY_TTL_MS = 5_000;

/** Per POLICY namespace (one per isolate and environment): the policies read and when. */
const signaturePolicyCache = new WeakMap<object, { at: number; policies: Promise<SignaturePolicy[]> }>();

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

  async retentionRules(): Promise<RetentionRule[]> {
    return this.policy().retentionRules();
  }

  async addRetentionRule(rule: RetentionRuleInput): Promise<RetentionRule> {
    return this.policy().addRetentionRule(rule);
  }

  async removeRetentionRule(id: string): Promise<boolean> {
    return this.policy().removeRetentionRule(id);
  }

  /** The signature policies, read at most once per SIGNATURE_POLICY_TTL_MS per isolate (the pull path's one read). */
  async signaturePolicies(): Promise<SignaturePolicy[]> {
    const cached = signaturePolicyCache.get(this.ns);
    if (cached && Date.now() - cached.at < SIGNATURE_POLICY_TTL_MS) return cached.policies;
    const policies = this.policy().signaturePolicies() as Promise<SignaturePolicy[]>;
    signaturePolicyCache.set(this.ns, { at: Date.now(), policies });
    policies.catch(() => signaturePolicyCache.delete(this.ns));
    return policies;
  }

  async addSignaturePolicy(input: SignaturePolicyInput): Promise<SignaturePolicy> {
    signaturePolicyCache.delete(this.ns);
    const added = (await this.policy().addSignaturePolicy(input)) as SignaturePolicy;
    signaturePolicyCache.delete(this.ns);
    return added;
  }

  async removeSignaturePolicy(id: string): Promise<boolean> {
    signaturePolicyCache.delete(this.ns);
    const removed = await this.policy().removeSignaturePolicy(id);
    signaturePolicyCache.delete(this.ns);
    return removed;
  }
}
