import type { RepositoryName } from "@registry/core";
import type { PolicyStore, ReadStores, RegistryStores } from "@registry/storage";

/** What a route needs from the caller: derived from the route, checked by `authorize`. */
export type Access =
  | { type: "none" }
  | { type: "catalog" }
  | { type: "repository"; repository: RepositoryName; actions: ("pull" | "push" | "delete")[] };

/**
 * Decides whether a request may proceed; throws `OciError("UNAUTHORIZED" | "DENIED")` to refuse.
 * Returns extra facts for handlers (e.g. which other repositories the caller may pull from).
 */
export type Authorize = (request: Request, access: Access) => Promise<Grant>;

/** What the caller was found to be allowed, beyond the route's own access. */
export interface Grant {
  /** May the caller pull from this other repository (cross-repository mount)? */
  canPull(repository: RepositoryName): boolean | Promise<boolean>;
  /**
   * Every repository the caller's credentials let it pull (for a token: those its `access` names with pull),
   * the only places a mount without `from` may take a blob from; `"any"` when access is not restricted.
   */
  readonly pullable: readonly RepositoryName[] | "any";
  /**
   * May the caller push to the route's repository? Such a caller (the CI that just pushed) reads its own writes:
   * its reads go to the strongly consistent index, never the edge.
   */
  readonly mayPush: boolean;
  /** The verified token's `sub` (for the request log); absent for anonymous access. */
  readonly subject?: string;
}

/** What the read routes need (GET and HEAD of manifests, blobs, tags, referrers, catalog): the read roles. */
export interface ReadDeps {
  stores: ReadStores;
  /** The read roles served from the edge index, for routes marked `edge` (absent: every read is the stores'). */
  edge?: ReadStores;
  /** The registry's rules: a manifest GET reads the signature policies (absent: no policy, e.g. the mirror). */
  policy?: Pick<PolicyStore, "signaturePolicies">;
}

/** What the whole /v2 API needs: the read and the write roles, and the registry's rules (immutable tags, signatures). */
export interface AppDeps extends ReadDeps {
  stores: RegistryStores;
  policy?: PolicyStore;
}

/** A matched request, parsed: handlers read typed values from here only. */
export interface RouteRequest {
  request: Request;
  url: URL;
  head: boolean;
  params: Readonly<Record<string, string>>;
  /** The repository named in the path (validated), when the route has one. */
  repository: RepositoryName;
  grant: Grant;
}

/** A route's handler, given only the roles `D` it needs (a read handler takes ReadDeps). */
export type Handler<D extends ReadDeps = AppDeps> = (req: RouteRequest, deps: D) => Promise<Response>;
