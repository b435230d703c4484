import { isDigest, isRepositoryName, isRepositoryPattern, isTagPattern, matchesRepositoryPattern, matchesTagPattern } from "@registry/core";
import type { ReplicationRule, ReplicationRuleInput, ReplicationTrigger } from "@registry/storage";

/**
 * Replication rules (issue 11 §1): which rule covers which repository and reference, the repository's name on
 * the target, and what a new rule must say. The rules themselves live in the ReplicationLog Durable Object.
 */

/** One queued replication: one rule, one reference, copied (with its referrers) or deleted on the target. */
export interface ReplicationMessage {
  /** The execution's id (stable across retries: its attempts update one history row). */
  id: string;
  rule: string;
  op: "copy" | "delete";
  repository: string;
  /** A tag or a digest. */
  reference: string;
  trigger: ReplicationTrigger;
  /** When the execution was queued (ISO). */
  queued: string;
  /**
   * The reference is the subject of a referrer pushed by itself (an OCI 1.1 referrer, or a cosign
   * `sha256-<hex>.sig` tag): the subject's referrer tree is copied, if the subject falls under the rule's tags.
   */
  referrerPush?: boolean;
}

/** True if `rule` covers `repository`; a tag must also match its glob (a digest always passes). */
export function ruleCovers(rule: ReplicationRule, repository: string, reference?: string): boolean {
  if (!matchesRepositoryPattern(rule.repository, repository)) return false;
  if (reference === undefined || isDigest(reference)) return true;
  return matchesTagPattern(rule.tags, reference);
}

/** The repository's name on the rule's target: the same, renamed, or under a new prefix (`org/*` → `copy/*`). */
export function targetRepositoryOf(rule: ReplicationRule, repository: string): string {
  const to = rule.targetRepository;
  if (!to) return repository;
  if (!to.endsWith("/*")) return to;
  const prefix = to.slice(0, -1);
  if (rule.repository === "*") return prefix + repository;
  if (rule.repository.endsWith("/*")) return prefix + repository.slice(rule.repository.length - 1);
  return prefix + repository.slice(repository.lastIndexOf("/") + 1);
}

/** What is wrong with a new rule (a message for a 400), or null when it is good. */
export function replicationRuleProblem(body: Record<string, unknown>): string | null {
  const { repository, tags, referrers, deletions, target, targetRepository } = body;
  if (typeof repository !== "string" || !isRepositoryPattern(repository)) return 'repository must be "*", "org/*" or a repository name';
  if (tags !== undefined && (typeof tags !== "string" || !isTagPattern(tags))) return "tags must be a tag or a glob of tag characters, * and ?";
  if (referrers !== undefined && typeof referrers !== "boolean") return "referrers must be true or false";
  if (deletions !== undefined && typeof deletions !== "boolean") return "deletions must be true or false";
  if (typeof target !== "object" || target === null) return 'target must be {"url": "https://…", "credentials": "<SECRET_NAME>"}';
  const { url, credentials } = target as Record<string, unknown>;
  if (typeof url !== "string" || !/^https?:\/\/[^/\s]+\/?$/.test(url)) return "target.url must be a registry's base URL (http(s)://host[:port], no path)";
  if (credentials !== undefined && credentials !== null && (typeof credentials !== "string" || !/^[A-Z_][A-Z0-9_]{0,63}$/.test(credentials)))
    return "target.credentials must name a secret of the registry worker (UPPER_SNAKE), whose value is username:password";
  if (targetRepository !== undefined && targetRepository !== null) {
    if (typeof targetRepository !== "string") return "targetRepository must be a string";
    const exact = repository !== "*" && !repository.endsWith("/*");
    const ok = exact ? isRepositoryName(targetRepository) : targetRepository.endsWith("/*") && isRepositoryName(targetRepository.slice(0, -2));
    if (!ok) return exact ? "targetRepository must be a repository name" : 'targetRepository must be a prefix "name/*" for a pattern rule';
  }
  return null;
}

/** A validated rule body as the store takes it. */
export function ruleInput(body: Record<string, unknown>): ReplicationRuleInput {
  const target = body.target as { url: string; credentials?: string | null };
  return {
    repository: body.repository as string,
    tags: (body.tags as string | undefined) ?? "*",
    referrers: (body.referrers as boolean | undefined) ?? true,
    deletions: (body.deletions as boolean | undefined) ?? false,
    target: { url: target.url.replace(/\/$/, ""), credentials: target.credentials ?? null },
    targetRepository: (body.targetRepository as string | null | undefined) ?? null,
  };
}
