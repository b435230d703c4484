/**
 * Reading a verified token's `access` claim for one resource.
 * Spec: Docker "Token Scope Documentation" § Resource Provider Use (type and name must both match).
 */
import type { AccessClaims } from "./claims";

/** The concrete actions `*` stands for on a repository. */
export const REPOSITORY_ACTIONS = ["pull", "push", "delete"] as const;

/** One concrete repository action. */
export type RepositoryAction = (typeof REPOSITORY_ACTIONS)[number];

/**
 * Repository actions with `*` expanded to pull, push and delete, each once, in the order given; other actions
 * are kept as written. Never throws.
 */
export function expandRepositoryActions<A extends string>(actions: Iterable<A>): Set<Exclude<A, "*"> | RepositoryAction> {
  const out = new Set<Exclude<A, "*"> | RepositoryAction>();
  for (const action of actions) {
    if (action === "*") for (const a of REPOSITORY_ACTIONS) out.add(a);
    else out.add(action as Exclude<A, "*">);
  }
  return out;
}

/** `repository(plugin)` → `repository`: resource classes are deprecated and must be treated as equal. */
export function baseResourceType(type: string): string {
  const paren = type.indexOf("(");
  return paren === -1 ? type : type.slice(0, paren);
}

/**
 * The actions the token grants on resource (`type`, `name`): the union over every matching entry, de-duplicated.
 * Types match ignoring a resource class; names match exactly. For repositories `*` expands to pull, push and
 * delete; for other types (e.g. `registry` `catalog`) actions are returned as written. Never throws.
 */
export function allowedActions(claims: AccessClaims, type: string, name: string): string[] {
  const wanted = baseResourceType(type);
  const isRepository = wanted === "repository";
  const out = new Set<string>();
  for (const entry of claims.access) {
    if (baseResourceType(entry.type) !== wanted || entry.name !== name) continue;
    for (const action of isRepository ? expandRepositoryActions(entry.actions) : entry.actions) out.add(action);
  }
  return [...out];
}

/**
 * The names of the repositories on which the token grants `action` (`*` included), in the order the token lists
 * them, each once. Names are as written in the token, not validated. Never throws.
 */
export function repositoriesAllowing(claims: AccessClaims, action: string): string[] {
  const names = new Set<string>();
  for (const entry of claims.access) {
    if (baseResourceType(entry.type) !== "repository" || names.has(entry.name)) continue;
    if (allowedActions(claims, "repository", entry.name).includes(action)) names.add(entry.name);
  }
  return [...names];
}
