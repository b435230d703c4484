/**
 * Access rules of an account: repository patterns and the actions allowed on them. A pattern is `*` (every
 * repository), a prefix glob `org/*` (every repository below `org/`, at any depth, not `org` itself), or an exact
 * repository name. Actions are `pull`, `push`, `delete`, or `*` for all three.
 */
import { isRepositoryPattern, matchesRepositoryPattern } from "@registry/core";
import { REPOSITORY_ACTIONS, expandRepositoryActions, type RepositoryAction } from "@registry/token";
import { badRequest } from "./errors";

/** One rule: a repository pattern and the actions it grants there. */
export interface Rule {
  repository: string;
  actions: (RepositoryAction | "*")[];
}

const RULE_ACTIONS = new Set<string>([...REPOSITORY_ACTIONS, "*"]);

/** At most this many rules per account. */
export const MAX_RULES = 100;

/** The concrete actions the rules allow on repository `name` (`*` expanded). */
export function actionsFor(rules: readonly Rule[], name: string): Set<RepositoryAction> {
  const out = new Set<RepositoryAction>();
  for (const rule of rules) {
    if (!matchesRepositoryPattern(rule.repository, name)) continue;
    for (const a of expandRepositoryActions(rule.actions)) out.add(a);
  }
  return out;
}

/**
 * Validates rules as given to the admin API: an array of `{repository, actions}` with a valid pattern and a
 * non-empty list of known actions. Returns them normalized (actions de-duplicated). Throws 400 INVALID_REQUEST.
 */
export function parseRules(value: unknown): Rule[] {
  if (!Array.isArray(value) || value.length > MAX_RULES) throw badRequest(`rules must be an array of at most ${MAX_RULES} rules`);
  return value.map((raw, i) => {
    const r = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    if (typeof r.repository !== "string" || !isRepositoryPattern(r.repository)) {
      throw badRequest(`rules[${i}].repository must be "*", "org/*" or a repository name`);
    }
    if (!Array.isArray(r.actions) || r.actions.length === 0 || !r.actions.every((a) => RULE_ACTIONS.has(a as string))) {
      throw badRequest(`rules[${i}].actions must be a non-empty subset of pull, push, delete, *`);
    }
    return { repository: r.repository, actions: [...new Set(r.actions as Rule["actions"])] };
  });
}

/**
 * Rules from the `ANONYMOUS_PULL` variable: comma-separated repository patterns anyone may pull (`*` = all,
 * empty = none). Throws Error for an invalid pattern (a configuration mistake must not silently open or close).
 */
export function anonymousPullRules(value: string | undefined): Rule[] {
  const patterns = (value ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  for (const p of patterns) if (!isRepositoryPattern(p)) throw new Error(`ANONYMOUS_PULL: invalid repository pattern ${JSON.stringify(p)}`);
  return patterns.map((repository) => ({ repository, actions: ["pull"] }));
}
