/**
 * What goes into a token: the intersection of the scopes asked for and what the principal may do.
 * Spec: Docker "Token Authentication Specification" § Requesting a Token (a subset of the requested access "must
 * not be considered an error"); "Token Scope Documentation" (resource classes are ignored).
 */
import { parseScopes, type Scope } from "@registry/core";
import { REPOSITORY_ACTIONS, baseResourceType, expandRepositoryActions, type AccessEntry } from "@registry/token";
import { AuthError } from "./errors";
import { actionsFor, type Rule } from "./rules";

/** Who a token is for: subject (`""` = anonymous), their rules (anonymous pull rules included), catalog right. */
export interface Principal {
  subject: string;
  rules: Rule[];
  catalog: boolean;
}

/** At most this many scopes per token request. */
export const MAX_SCOPES = 64;

/**
 * Parses the requested scopes: each value may hold several space-separated scopes (the POST form) and values
 * may repeat (the GET form). Throws 400 SCOPE_INVALID for a malformed scope or too many of them.
 */
export function parseRequestedScopes(values: readonly string[]): Scope[] {
  let scopes: Scope[];
  try {
    scopes = values.flatMap((v) => parseScopes(v));
  } catch (e) {
    throw new AuthError("SCOPE_INVALID", { message: e instanceof Error ? e.message : "invalid scope" });
  }
  if (scopes.length > MAX_SCOPES) throw new AuthError("SCOPE_INVALID", { message: `at most ${MAX_SCOPES} scopes per request` });
  return scopes;
}

/**
 * The access entries to sign: for each requested resource (merged by type and name), the requested actions the
 * principal holds. Repositories: pull/push/delete from the rules, `*` asked = all three asked; the class of
 * `repository(plugin)` is dropped. `registry:catalog:*`: only with the catalog right. Resources with nothing
 * granted, unknown types and unknown actions are left out (an empty list is a valid answer).
 */
export function grantAccess(requested: readonly Scope[], principal: Principal): AccessEntry[] {
  const wanted = new Map<string, { type: string; name: string; actions: Set<string> }>();
  for (const scope of requested) {
    const type = baseResourceType(scope.type);
    const key = `${type}\u0000${scope.name}`;
    const entry = wanted.get(key) ?? { type, name: scope.name, actions: new Set<string>() };
    for (const a of scope.actions) entry.actions.add(a);
    wanted.set(key, entry);
  }
  const granted: AccessEntry[] = [];
  for (const { type, name, actions } of wanted.values()) {
    if (type === "repository") {
      const allowed = actionsFor(principal.rules, name);
      const asked = expandRepositoryActions(actions);
      const both = REPOSITORY_ACTIONS.filter((a) => asked.has(a) && allowed.has(a));
      if (both.length > 0) granted.push({ type, name, actions: both });
    } else if (type === "registry" && name === "catalog" && actions.has("*") && principal.catalog) {
      granted.push({ type, name, actions: ["*"] });
    }
  }
  return granted;
}
