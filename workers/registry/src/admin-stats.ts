import { parseRepositoryName, type RepositoryName } from "@registry/core";
import type { AdminDeps, Handler } from "./admin";
import { error, json, queryInt } from "./admin-http";

/**
 * Pull statistics on the admin API (issue 12 §2; `pnpm admin stats`): pull counts and times as the isolates'
 * batches recorded them (PullStats: one write per repository per isolate a minute at most, none per pull).
 *
 *   GET /admin/stats?n=&last=               → 200 {"repositories": [{name, tags, manifests, pulls}], "next": "<last>"|null}
 *                                             a page of the catalog (n ≤ 100, default 50), one totals() call per repository
 *   GET /admin/stats/<repository>?n=&last=  → 200 {"repository", "totals": {tags, manifests, pulls},
 *                                                  "tags": [{name, digest, mediaType, size, pushedAt, pulledAt, pulls}], "next"}
 *                                             tags in byte order after `last` (n ≤ 1000, default 100); 404 for an unknown repository
 */

/** The statistics routes of the admin route table (admin.ts). */
export const STATS_ROUTES: [string, RegExp, Handler][] = [
  ["GET", /^\/admin\/stats$/, repositoryStats],
  ["GET", /^\/admin\/stats\/(.+)$/, tagStats],
];

/** Repositories of one catalog page with their totals (the page's repositories are asked in parallel). */
export async function repositoryStats(request: Request, { indexes }: AdminDeps): Promise<Response> {
  if (!indexes) return error(503, "no repository indexes are wired");
  const url = new URL(request.url);
  const n = queryInt(url, "n", 50, 1, 100);
  if (typeof n === "string") return error(400, n);
  const last = url.searchParams.get("last") ?? undefined;
  const page = await indexes.catalog().list(n, last);
  const repositories = await Promise.all(
    page.items.map(async (name) => ({ name, ...(await indexes.repository(name as RepositoryName).totals()) })),
  );
  return json(200, { repositories, next: page.more ? (page.items.at(-1) ?? null) : null });
}

/** One repository's totals and a page of its tags with pulls, last pull and push times. */
export async function tagStats(request: Request, { indexes }: AdminDeps, raw: string): Promise<Response> {
  if (!indexes) return error(503, "no repository indexes are wired");
  const url = new URL(request.url);
  const n = queryInt(url, "n", 100, 1, 1000);
  if (typeof n === "string") return error(400, n);
  let name: RepositoryName;
  try {
    name = parseRepositoryName(decodeURIComponent(raw));
  } catch {
    return error(400, `${JSON.stringify(raw.slice(0, 200))} is not a repository name`);
  }
  const index = indexes.repository(name);
  const [totals, page] = await Promise.all([index.totals(), index.tagDetails(n, url.searchParams.get("last") ?? undefined)]);
  if (totals.manifests === 0 && totals.tags === 0) return error(404, `no repository ${name}`);
  return json(200, { repository: name, totals, tags: page.items, next: page.more ? (page.items.at(-1)?.name ?? null) : null });
}
