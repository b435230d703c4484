import { OciError } from "@registry/core";
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
  method: Method;
  /** itty-router pattern; `:name+` is the repository name (it contains slashes). */
  path: string;
  need: Need;
}

/** A route whose handler needs only the read roles of storage (`reads: true`): a read-only registry serves it. */
export interface ReadRoute extends Endpoint {
  handler: Handler<ReadDeps>;
  reads: true;
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
  { method: "GET", path: "/v2/", handler: apiVersion, need: "none", reads: true },
  { method: "GET", path: "/v2/_catalog", handler: listRepositories, need: "catalog", reads: true },
  { method: "GET", path: "/v2/:name+/manifests/:reference", handler: getManifest, need: "pull", reads: true },
  { method: "HEAD", path: "/v2/:name+/manifests/:reference", handler: getManifest, need: "pull", reads: true },
  { method: "PUT", path: "/v2/:name+/manifests/:reference", handler: putManifest, need: "push" },
  { method: "DELETE", path: "/v2/:name+/manifests/:reference", handler: deleteManifest, need: "delete" },
  { method: "POST", path: "/v2/:name+/blobs/uploads/", handler: startUpload, need: "push" },
  { method: "GET", path: "/v2/:name+/blobs/uploads/:id", handler: getUploadStatus, need: "push" },
  { method: "PATCH", path: "/v2/:name+/blobs/uploads/:id", handler: appendChunk, need: "push" },
  { method: "PUT", path: "/v2/:name+/blobs/uploads/:id", handler: finishUpload, need: "push" },
  { method: "DELETE", path: "/v2/:name+/blobs/uploads/:id", handler: cancelUpload, need: "push" },
  { method: "GET", path: "/v2/:name+/blobs/:digest", handler: getBlob, need: "pull", reads: true },
  { method: "HEAD", path: "/v2/:name+/blobs/:digest", handler: getBlob, need: "pull", reads: true },
  { method: "DELETE", path: "/v2/:name+/blobs/:digest", handler: deleteBlob, need: "delete" },
  { method: "GET", path: "/v2/:name+/tags/list", handler: listTags, need: "pull", reads: true },
  { method: "GET", path: "/v2/:name+/referrers/:digest", handler: listReferrers, need: "pull", reads: true },
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
