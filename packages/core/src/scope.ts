/**
 * Token scopes — `repository:library/alpine:pull,push` — as clients ask for them from the token service and as
 * the registry demands them in a `WWW-Authenticate` challenge.
 * Spec: Docker "Token Scope Documentation" (resource scope grammar); Docker "Token Authentication Specification".
 */
import { isRegistryHost, isRepositoryName } from "./reference";

/** One resource scope: resource type (with its optional `(class)`), resource name, and requested actions. */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/** A malformed scope string. Plain `Error` with a stable `code`, since scopes are not OCI error responses. */
export class ScopeError extends Error {
  readonly code = "SCOPE_INVALID" as const;

  constructor(message: string) {
    super(message);
    this.name = "ScopeError";
  }
}

/** `resourcetypevalue [ "(" resourcetypevalue ")" ]`, e.g. `repository`, `registry`, `repository(plugin)`. */
const RESOURCE_TYPE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\([a-z0-9]+(?:[._-][a-z0-9]+)*\))?$/;
/** An action: lowercase letters, or `*` for all. */
const ACTION = /^[a-z*]+$/;
/** A name of a non-repository resource (e.g. `catalog`): letters, digits and `. _ - / : *`. */
const GENERIC_NAME = /^[A-Za-z0-9._\-/:*]+$/;

/** True for a repository resource name: a repository path, optionally prefixed by `host[:port]/`. */
function isRepositoryResourceName(name: string): boolean {
  if (isRepositoryName(name)) return true;
  const slash = name.indexOf("/");
  return slash > 0 && isRegistryHost(name.slice(0, slash)) && isRepositoryName(name.slice(slash + 1));
}

/**
 * Parses `resourcetype ":" resourcename ":" action ["," action]*`. The type ends at the FIRST ':' and the actions
 * start after the LAST ':', so a name may contain ':' (`repository:localhost:5000/foo/bar:pull,push`). The type is
 * `[a-z0-9]+(?:[._-][a-z0-9]+)*` with an optional `(class)` and is returned as written (`repository(plugin)`);
 * for repository types the name must be a repository name, optionally prefixed by `host[:port]/`; actions are
 * `[a-z*]+` (returned de-duplicated, in order). Throws `ScopeError` (code "SCOPE_INVALID").
 * Spec: Docker "Token Scope Documentation" § Resource Scope Grammar.
 */
export function parseScope(s: string): Scope {
  const fail = (reason: string): ScopeError => new ScopeError(`invalid scope ${JSON.stringify(s)}: ${reason}`);
  if (typeof s !== "string" || s.trim() === "") throw fail("empty");
  const first = s.indexOf(":");
  const last = s.lastIndexOf(":");
  if (first === -1 || first === last) throw fail("expected type:name:actions");
  const type = s.slice(0, first);
  const name = s.slice(first + 1, last);
  const actionText = s.slice(last + 1);
  if (!RESOURCE_TYPE.test(type)) throw fail(`invalid resource type ${JSON.stringify(type)}`);
  if (name === "") throw fail("empty resource name");
  const isRepository = type === "repository" || type.startsWith("repository(");
  if (isRepository ? !isRepositoryResourceName(name) : !GENERIC_NAME.test(name)) {
    throw fail(`invalid resource name ${JSON.stringify(name)}`);
  }
  const actions = actionText.split(",");
  if (!actions.every((a) => ACTION.test(a))) throw fail(`invalid actions ${JSON.stringify(actionText)}`);
  return { type, name, actions: [...new Set(actions)] };
}

/**
 * Parses a space-separated list of scopes (the OAuth2 `scope` form); empty parts are ignored, so "" gives [].
 * Throws `ScopeError` if any part is invalid. Spec: Docker "Token Authentication Specification" § scope.
 */
export function parseScopes(s: string): Scope[] {
  return s
    .split(/\s+/)
    .filter((part) => part !== "")
    .map(parseScope);
}

/** `type:name:actions` with the actions sorted and de-duplicated. Spec: Docker "Token Scope Documentation". */
export function formatScope(s: Scope): string {
  return `${s.type}:${s.name}:${[...new Set(s.actions)].sort().join(",")}`;
}
