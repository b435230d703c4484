import { isDigest, OciError } from "@registry/core";
import { Router } from "itty-router";
import type { AppDeps, Handler, ReadDeps } from "./context";
import { apiVersion } from "./handlers/base";
import { deleteBlob, getBlob } from "./handlers/blobs";
import { listReferrers, listRepositories, listTags } from "./handlers/listings";
import { deleteManifest, getManifest, putManifest } from "./handlers/manifests";
import { appendChunk, cancelUpload, finishUpload, getUploadStatus, startUpload } from "./handlers/uploads";

export type Method = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";

/** What a route needs: nothing, the catalog, or actions on the repository in its path. */
export type Need = "none" | "catalog" | "pull" | "push" | "delete";

interface Endpoint {
  /** The route's name in logs and metrics ("manifest.get"): stable, never the raw path. */
  name: string;
  method: Method;
  /** itty-router pattern; `:name+` is the repository name (it contains slashes). */
  path: string;
  need: Need;
  /** A GET is a pull as Docker Hub counts them (when served); a HEAD only looks at what is left. */
  countsAsPull?: boolean;
  /** Addressed by the digest in `:digest` or `:reference` (when it is one): the answer never changes. */
  cacheableByDigest?: boolean;
}

/** A route whose handler needs only the read roles of storage (`reads: true`): a read-only registry serves it. */
export interface ReadRoute extends Endpoint {
  handler: Handler<ReadDeps>;
  reads: true;
  /**
   * May be served from the edge index (`ReadDeps.edge`) to a caller who may not push to the repository and
   * did not ask for `Cache-Control: no-cache` (STORAGE.md "The edge read path"); `X-Read-Path` says which.
   */
  edge?: boolean;
}

/** A route whose handler needs the write roles too. */
export interface WriteRoute extends Endpoint {
  handler: Handler<AppDeps>;
  reads?: false;
}

/** One endpoint: method, path, the access it needs, its handler. */
export type Route = ReadRoute | WriteRoute;

/**
 * Every endpoint of the OCI Distribution Spec v1.1, one line each (spec §"Endpoints", end-1 … end-13).
 * Order matters: the upload routes come before `blobs/:digest`.
 */
export const ROUTES: readonly Route[] = [
  { name: "base", method: "GET", path: "/v2/", handler: apiVersion, need: "none", reads: true },
  { name: "catalog.list", method: "GET", path: "/v2/_catalog", handler: listRepositories, need: "catalog", reads: true },
  { name: "manifest.get", method: "GET", path: "/v2/:name+/manifests/:reference", handler: getManifest, need: "pull", reads: true, edge: true, countsAsPull: true, cacheableByDigest: true },
  { name: "manifest.head", method: "HEAD", path: "/v2/:name+/manifests/:reference", handler: getManifest, need: "pull", reads: true, edge: true, countsAsPull: true },
  { name: "manifest.put", method: "PUT", path: "/v2/:name+/manifests/:reference", handler: putManifest, need: "push" },
  { name: "manifest.delete", method: "DELETE", path: "/v2/:name+/manifests/:reference", handler: deleteManifest, need: "delete" },
  { name: "blob.upload.start", method: "POST", path: "/v2/:name+/blobs/uploads/", handler: startUpload, need: "push" },
  { name: "blob.upload.status", method: "GET", path: "/v2/:name+/blobs/uploads/:id", handler: getUploadStatus, need: "push" },
  { name: "blob.upload.patch", method: "PATCH", path: "/v2/:name+/blobs/uploads/:id", handler: appendChunk, need: "push" },
  { name: "blob.upload.finish", method: "PUT", path: "/v2/:name+/blobs/uploads/:id", handler: finishUpload, need: "push" },
  { name: "blob.upload.cancel", method: "DELETE", path: "/v2/:name+/blobs/uploads/:id", handler: cancelUpload, need: "push" },
  { name: "blob.get", method: "GET", path: "/v2/:name+/blobs/:digest", handler: getBlob, need: "pull", reads: true, edge: true, cacheableByDigest: true },
  { name: "blob.head", method: "HEAD", path: "/v2/:name+/blobs/:digest", handler: getBlob, need: "pull", reads: true, edge: true },
  { name: "blob.delete", method: "DELETE", path: "/v2/:name+/blobs/:digest", handler: deleteBlob, need: "delete" },
  { name: "tags.list", method: "GET", path: "/v2/:name+/tags/list", handler: listTags, need: "pull", reads: true },
  { name: "referrers.list", method: "GET", path: "/v2/:name+/referrers/:digest", handler: listReferrers, need: "pull", reads: true },
];

/**
 * Only what a read-only registry (the mirror) serves, over the read roles only: every GET and HEAD; a GET that
 * needs a write role (an upload's status) stays in the table, refused (its `need` already refuses it first).
 */
export const READ_ROUTES: readonly ReadRoute[] = ROUTES.filter((r) => r.method === "GET" || r.method === "HEAD").map(
  (r): ReadRoute => (r.reads ? r : { ...r, handler: refuseWrite, reads: true }),
);

async function refuseWrite(): Promise<Response> {
  throw new OciError("UNSUPPORTED", { detail: "this registry is read-only" });
}

/** A request matched to its route: the route (with its flags) and the path's parameters, parsed once. */
export interface MatchedRoute {
  route: Route;
  request: Request;
  url: URL;
  params: Readonly<Record<string, string>>;
}

/**
 * Work around a matched route (pull limits, an edge cache): returns `next()`'s answer, changed or not, or
 * answers by itself; what it throws is rendered like a handler's error.
 */
export type RouteMiddleware = (matched: MatchedRoute, next: () => Promise<Response>) => Promise<Response>;

/**
 * A matcher over `routes` (default: all of ROUTES): the route a request's method and path select, with the
 * path's parameters, or undefined when none does. The one router of the API: the app dispatches through it, and
 * code that wraps an app from outside matches the same way.
 */
export function routeMatcher(
  routes: readonly Route[] = ROUTES,
): (request: Request, url?: URL) => Promise<MatchedRoute | undefined> {
  const router = Router<Request & { params: Record<string, string> }, [URL]>();
  for (const route of routes) {
    router[route.method.toLowerCase() as "get"](route.path, (request, url): MatchedRoute => ({ route, request, url, params: request.params }));
  }
  return async (request, url = new URL(request.url)) =>
    (await router.fetch(request as Request & { params: Record<string, string> }, url)) as MatchedRoute | undefined;
}

/** The digest a `cacheableByDigest` route was asked for; undefined for another route or a tag. */
export function requestedDigest(matched: MatchedRoute): string | undefined {
  if (!matched.route.cacheableByDigest) return undefined;
  const reference = matched.params.digest ?? matched.params.reference;
  return reference !== undefined && isDigest(reference) ? reference : undefined;
}
