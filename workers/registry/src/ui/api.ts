import { isDigest, isRepositoryName, isTag, matchesRepositoryPattern, parseReference, tagRuleCovers, type RepositoryName } from "@registry/core";
import type { Indexes, PolicyStore, ReadStores } from "@registry/storage";
import { imageDetail } from "./image";
import { signIn, VisitorError, type AuthService, type Visitor } from "./visitor";

/**
 * The web page's JSON API (issue 12 §1), under /ui/api/: everything paged and searched in storage, never a whole
 * list loaded; every name checked against what the visitor may pull (visitor.ts) before it is shown — a repository
 * the visitor may not pull answers 404 exactly like one that does not exist.
 *
 *   POST /ui/api/session            {username, secret} → {token} (a refresh token of the auth service) or 401
 *   GET  /ui/api/repositories       ?q=<substring>&after=<name>&skip=<k>&n=<≤50> → {items: [name], next}
 *   GET  /ui/api/tags               ?repository=<name>&last=<tag>&n=<≤100> → {items: [tag detail + immutable], more}
 *   GET  /ui/api/image              ?repository=<name>&ref=<tag|digest> → image detail with pull commands
 */
export interface UiDeps {
  stores: ReadStores;
  policy: PolicyStore;
  indexes: Indexes;
  visitor: Visitor;
  /** The auth service and the service name (sign in), when the registry uses token auth. */
  auth?: { service: AuthService; name: string };
}

/** Candidate names read per catalog query, and the most queries one repositories page may make. */
const SCAN = 50;
const MAX_SCANS = 20;

export async function uiApi(request: Request, deps: UiDeps): Promise<Response> {
  const url = new URL(request.url);
  try {
    switch (`${request.method} ${url.pathname}`) {
      case "POST /ui/api/session":
        return await session(request, deps);
      case "GET /ui/api/repositories":
        return json(await repositories(url.searchParams, deps));
      case "GET /ui/api/tags":
        return await tags(url.searchParams, deps);
      case "GET /ui/api/image":
        return await image(url, deps);
      default:
        return json({ error: "not found" }, 404);
    }
  } catch (e) {
    if (e instanceof VisitorError) return json({ error: e.message }, 401);
    console.log(JSON.stringify({ event: "ui-error", path: url.pathname, error: String(e) }));
    return json({ error: "internal error" }, 500);
  }
}

async function session(request: Request, deps: UiDeps): Promise<Response> {
  if (!deps.auth) return json({ error: "this registry has no sign-in (no token auth)" }, 404);
  const body = (await request.json().catch(() => null)) as { username?: unknown; secret?: unknown } | null;
  if (typeof body?.username !== "string" || typeof body.secret !== "string") return json({ error: "username and secret are required" }, 400);
  const token = await signIn(deps.auth.service, deps.auth.name, body.username, body.secret, request.headers.get("CF-Connecting-IP"));
  return token ? json({ token, username: body.username }) : json({ error: "wrong name or secret" }, 401);
}

/**
 * A page of repository names containing `q` that the visitor may pull. The cursor is the last name shown and how
 * many names after it (ones the visitor may not see) to skip, so a hidden name never reaches the page.
 */
async function repositories(q: URLSearchParams, deps: UiDeps): Promise<{ items: string[]; next: { after: string; skip: number } | null }> {
  const text = (q.get("q") ?? "").slice(0, 256);
  const n = clamp(q.get("n"), 25, 1, 50);
  let after = q.get("after") ?? "";
  let skip = clamp(q.get("skip"), 0, 0, 1_000_000);
  const items: string[] = [];
  const catalog = deps.indexes.catalog();
  for (let scan = 0; scan < MAX_SCANS; scan++) {
    const page = await catalog.search(text, SCAN, after, skip);
    const allowed = new Set(await deps.visitor.pullable(page.items));
    for (const name of page.items) {
      if (allowed.has(name)) {
        items.push(name);
        after = name;
        skip = 0;
        if (items.length === n) return { items, next: { after, skip } };
      } else skip++;
    }
    if (!page.more) return { items, next: null };
  }
  return { items, next: { after, skip } };
}

async function tags(q: URLSearchParams, deps: UiDeps): Promise<Response> {
  const repository = await visibleRepository(q.get("repository"), deps);
  if (!repository) return json({ error: "no such repository" }, 404);
  const n = clamp(q.get("n"), 50, 1, 100);
  const last = q.get("last") ?? undefined;
  const [page, rules, totals] = await Promise.all([
    deps.indexes.repository(repository).tagDetails(n, last),
    deps.policy.immutableRules(),
    last ? null : deps.indexes.repository(repository).totals(),
  ]);
  const covering = rules.filter((r) => matchesRepositoryPattern(r.repository, repository));
  const items = page.items.map((t) => ({ ...t, immutable: covering.some((r) => tagRuleCovers(r.tag, t.name)) }));
  return json({ repository, items, more: page.more, totals });
}

async function image(url: URL, deps: UiDeps): Promise<Response> {
  const repository = await visibleRepository(url.searchParams.get("repository"), deps);
  const ref = url.searchParams.get("ref") ?? "";
  if (!repository || !(isTag(ref) || isDigest(ref))) return json({ error: "no such image" }, 404);
  const detail = await imageDetail(deps.stores, deps.policy, repository, parseReference(ref));
  if (!detail) return json({ error: "no such image" }, 404);
  const base = `${url.host}/${repository}`;
  const pull = { ...(isTag(ref) ? { tag: `docker pull ${base}:${ref}` } : {}), digest: `docker pull ${base}@${detail.digest}` };
  return json({ ...detail, ref, pull });
}

/** The repository named by `name` when it is a valid name the visitor may pull; null otherwise. */
async function visibleRepository(name: string | null, deps: UiDeps): Promise<RepositoryName | null> {
  if (!name || !isRepositoryName(name)) return null;
  const [allowed] = await deps.visitor.pullable([name]);
  return allowed === name ? (name as RepositoryName) : null;
}

function clamp(value: string | null, fallback: number, min: number, max: number): number {
  const n = value === null ? fallback : Number(value);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" },
  });
}
