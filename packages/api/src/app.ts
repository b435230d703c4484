import { drainUnread, isOciError, OciError, parseRepositoryName, type RepositoryName, type RequestRecord } from "@registry/core";
import type { Access, AppDeps, Authorize, Grant, ReadDeps, RouteRequest } from "./context";
import { API_VERSION_HEADERS } from "./http";
import { ROUTES, routeMatcher, type MatchedRoute, type Need, type ReadRoute, type Route, type RouteMiddleware } from "./routes";

/** What the app is built from: the stores (`D`: the roles its routes need), access control, the route table. */
export type AppOptions<D extends ReadDeps = AppDeps> = Partial<D> & {
  /** Access control; the default lets reads through and refuses writes (see `openAuthorize`). */
  authorize?: Authorize;
  /** The route table to serve (default: all of ROUTES). */
  routes?: readonly Route[];
};

/** A /v2 app whose routes need the storage roles `D`. */
export interface RegistryApp<D extends ReadDeps = AppDeps> {
  /**
   * Serves one request; `deps` replaces the stores given at creation (e.g. a mirror's per-upstream stores);
   * `around` runs, outermost first, around the matched route before anything else (access, the handler);
   * `record` (the request's log record, core startRequest) gets the route's name, repository, token subject, pull/push.
   */
  fetch(request: Request, deps?: D, around?: readonly RouteMiddleware[], record?: RequestRecord): Promise<Response>;
}

/**
 * The /v2 application: matches a route from the table, parses the repository name, asks `authorize` for the
 * route's access, runs the handler, and renders every error as the spec's JSON envelope. Errors that are not
 * OciErrors are logged and answered 500 UNKNOWN with a request id. Routing is `routeMatcher`, the one router.
 */
export function createRegistryApp(options: AppOptions<ReadDeps> & { routes: readonly ReadRoute[] }): RegistryApp<ReadDeps>;
export function createRegistryApp(options: AppOptions): RegistryApp;
export function createRegistryApp(options: AppOptions<ReadDeps>): RegistryApp<ReadDeps> {
  // The overloads pair a read-only table with read-only stores: every handler gets the roles its route needs.
  const routes = options.routes ?? ROUTES;
  const authorize = options.authorize ?? readOnlyAuthorize;
  const match = routeMatcher(routes);
  const known = new Set(routes.map((r) => r.method));

  return {
    async fetch(request, given, around = [], record) {
      const deps = given ?? (options as ReadDeps);
      const head = request.method === "HEAD";
      let response: Response;
      try {
        const url = new URL(request.url);
        if (!url.pathname.startsWith("/v2")) throw OciError.notFound("not found");
        const matched = await match(request, url);
        if (matched) {
          if (record) {
            record.route = matched.route.name;
            record.repository = (matched.params.name ?? "").slice(0, 256);
          }
          const wrap = (next: () => Promise<Response>, middleware: RouteMiddleware) => () =>
            middleware(matched, next).catch((e: unknown) => errorResponse(e, head));
          response = await around.reduceRight(wrap, () => run(matched, authorize, deps, record))();
          if (record) record.event = eventOf(matched, response.status);
        } else {
          const detail = `no route for ${request.method} ${url.pathname}`;
          response = new OciError(known.has(request.method as Route["method"]) ? "notFound" : "UNSUPPORTED", { detail }).toResponse(head);
        }
      } catch (e) {
        response = errorResponse(e, head);
      }
      for (const [k, v] of Object.entries(API_VERSION_HEADERS)) response.headers.set(k, v);
      await drainUnread(request);
      return response;
    },
  };
}

/** A manifest GET that answered 200 is a pull (as pull limits and statistics count them); a manifest PUT's 201 a push. */
function eventOf({ route, request }: MatchedRoute, status: number): RequestRecord["event"] {
  if (route.countsAsPull && request.method === "GET" && status === 200) return "pull";
  return route.name === "manifest.put" && status === 201 ? "push" : undefined;
}

async function run({ route, request, url, params }: MatchedRoute, authorize: Authorize, deps: ReadDeps, record?: RequestRecord): Promise<Response> {
  const head = request.method === "HEAD";
  let path: "edge" | "origin" | undefined;
  let response: Response;
  try {
    const repository = (params.name !== undefined ? parseRepositoryName(params.name) : "") as RepositoryName;
    const grant = await authorize(request, accessFor(route.need, repository));
    if (record && grant.subject) record.subject = grant.subject;
    const parsed: RouteRequest = { request, url, head, params, repository, grant };
    if (!route.reads) return await route.handler(parsed, deps as AppDeps);
    if (route.edge && deps.edge) path = grant.mayPush || wantsOrigin(request) ? "origin" : "edge";
    response = await route.handler(parsed, path === "edge" ? { ...deps, stores: deps.edge! } : deps);
  } catch (e) {
    response = errorResponse(e, head);
  }
  if (path) response.headers.set("X-Read-Path", path);
  return response;
}

/** `Cache-Control: no-cache` (or `max-age=0`): the client asks for the strongly consistent answer. */
function wantsOrigin(request: Request): boolean {
  return /(?:^|,)\s*(?:no-cache|max-age=0)\s*(?:,|$)/i.test(request.headers.get("Cache-Control") ?? "");
}

function accessFor(need: Need, repository: RepositoryName): Access {
  switch (need) {
    case "none":
      return { type: "none" };
    case "catalog":
      return { type: "catalog" };
    case "pull":
      return { type: "repository", repository, actions: ["pull"] };
    case "push":
      return { type: "repository", repository, actions: ["pull", "push"] };
    case "delete":
      return { type: "repository", repository, actions: ["delete"] };
  }
}

/**
 * The one place an error becomes a /v2 response (with the API version header): anything not an OciError is
 * logged and answered 500 UNKNOWN with a request id.
 */
export function errorResponse(e: unknown, head = false): Response {
  let error: OciError;
  if (isOciError(e)) error = e;
  else {
    error = OciError.internal(crypto.randomUUID());
    console.error(`request ${error.headers["X-Request-Id"]} failed:`, e);
  }
  const response = error.toResponse(head);
  for (const [k, v] of Object.entries(API_VERSION_HEADERS)) response.headers.set(k, v);
  return response;
}

const readsOnly: Grant = { canPull: () => true, pullable: "any", mayPush: false };
const everything: Grant = { ...readsOnly, mayPush: true };

/** Reads for everyone, writes for nobody: the safe default when no auth is configured. */
export const readOnlyAuthorize: Authorize = async (_request, access) => {
  if (access.type === "repository" && access.actions.some((a) => a !== "pull")) {
    throw new OciError("DENIED", { detail: "this registry accepts no writes without authentication" });
  }
  return readsOnly;
};

/** Everything for everyone (so every read is strongly consistent): only for local development, when switched on. */
export const openAuthorize: Authorize = async () => everything;
