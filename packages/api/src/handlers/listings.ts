import { MediaTypes, OciError, parseDigest } from "@registry/core";
import type { Handler, ReadDeps } from "../context";
import { json, nextLink, pageSize } from "../http";

/** Without `n`, a listing returns up to this many entries (and a Link to the rest). */
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

/** `GET /v2/<name>/tags/list?n=&last=` — lexical order, RFC 8288 `Link` when more (spec §"Listing tags"). */
export const listTags: Handler<ReadDeps> = async ({ url, repository }, { stores }) => {
  const n = pageSize(url, DEFAULT_PAGE, MAX_PAGE);
  const last = url.searchParams.get("last") ?? undefined;
  const page = await stores.manifests.listTags(repository, n, last);
  if (!page) throw new OciError("NAME_UNKNOWN", { detail: { name: repository } });
  const headers: Record<string, string> = {};
  const tail = page.items.at(-1);
  if (page.more && tail !== undefined) headers.Link = nextLink(url, n, tail);
  return json({ name: repository, tags: page.items }, { headers });
};

/** `GET /v2/_catalog?n=&last=` — repository names, paginated like tags. */
export const listRepositories: Handler<ReadDeps> = async ({ url }, { stores }) => {
  const n = pageSize(url, DEFAULT_PAGE, MAX_PAGE);
  const page = await stores.manifests.listRepositories(n, url.searchParams.get("last") ?? undefined);
  const headers: Record<string, string> = {};
  const tail = page.items.at(-1);
  if (page.more && tail !== undefined) headers.Link = nextLink(url, n, tail);
  return json({ repositories: page.items }, { headers });
};

/**
 * `GET /v2/<name>/referrers/<digest>?artifactType=` — an image index of the manifests whose subject is
 * `digest`; an empty index for an unknown digest (spec §"Listing referrers").
 */
export const listReferrers: Handler<ReadDeps> = async ({ url, repository, params }, { stores }) => {
  const digest = parseDigest(params.digest ?? "");
  const n = pageSize(url, DEFAULT_PAGE, MAX_PAGE);
  const artifactType = url.searchParams.get("artifactType");
  const page = await stores.manifests.listReferrers(repository, digest, n, url.searchParams.get("last") ?? undefined);
  const manifests = artifactType ? page.items.filter((d) => d.artifactType === artifactType) : page.items;
  const headers: Record<string, string> = { "Content-Type": MediaTypes.ociIndex };
  if (artifactType) headers["OCI-Filters-Applied"] = "artifactType";
  const tail = page.items.at(-1);
  if (page.more && tail !== undefined) headers.Link = nextLink(url, n, tail.digest);
  return json({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }, { headers });
};
