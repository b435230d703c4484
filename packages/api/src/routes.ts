import type { Handler } from "./context";
import { apiVersion } from "./handlers/base";
import { deleteBlob, getBlob } from "./handlers/blobs";
import { listReferrers, listRepositories, listTags } from "./handlers/listings";
import { deleteManifest, getManifest, putManifest } from "./handlers/manifests";
import { appendChunk, cancelUpload, finishUpload, getUploadStatus, startUpload } from "./handlers/uploads";

export type Method = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";

/** What a route needs: nothing, the catalog, or actions on the repository in its path. */
export type Need = "none" | "catalog" | "pull" | "push" | "delete";

export interface Route {
  method: Method;
  /** itty-router pattern; `:name+` is the repository name (it contains slashes). */
  path: string;
  handler: Handler;
  need: Need;
}

/**
 * Every endpoint of the OCI Distribution Spec v1.1, one line each (spec §"Endpoints", end-1 … end-13).
 * Order matters: the upload routes come before `blobs/:digest`.
 */
export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/v2/", handler: apiVersion, need: "none" },
  { method: "GET", path: "/v2/_catalog", handler: listRepositories, need: "catalog" },
  { method: "GET", path: "/v2/:name+/manifests/:reference", handler: getManifest, need: "pull" },
  { method: "HEAD", path: "/v2/:name+/manifests/:reference", handler: getManifest, need: "pull" },
  { method: "PUT", path: "/v2/:name+/manifests/:reference", handler: putManifest, need: "push" },
  { method: "DELETE", path: "/v2/:name+/manifests/:reference", handler: deleteManifest, need: "delete" },
  { method: "POST", path: "/v2/:name+/blobs/uploads/", handler: startUpload, need: "push" },
  { method: "GET", path: "/v2/:name+/blobs/uploads/:id", handler: getUploadStatus, need: "push" },
  { method: "PATCH", path: "/v2/:name+/blobs/uploads/:id", handler: appendChunk, need: "push" },
  { method: "PUT", path: "/v2/:name+/blobs/uploads/:id", handler: finishUpload, need: "push" },
  { method: "DELETE", path: "/v2/:name+/blobs/uploads/:id", handler: cancelUpload, need: "push" },
  { method: "GET", path: "/v2/:name+/blobs/:digest", handler: getBlob, need: "pull" },
  { method: "HEAD", path: "/v2/:name+/blobs/:digest", handler: getBlob, need: "pull" },
  { method: "DELETE", path: "/v2/:name+/blobs/:digest", handler: deleteBlob, need: "delete" },
  { method: "GET", path: "/v2/:name+/tags/list", handler: listTags, need: "pull" },
  { method: "GET", path: "/v2/:name+/referrers/:digest", handler: listReferrers, need: "pull" },
];

/** Only what a read-only registry (the mirror) serves. */
export const READ_ROUTES: readonly Route[] = ROUTES.filter((r) => r.method === "GET" || r.method === "HEAD");
