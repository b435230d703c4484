import { cosignSubject } from "@registry/core";
import { uploadIds } from "./blob-index";
import type { BlobRecord } from "./blob-record";
import type { EdgeEntry } from "./edge-keys";
import type { RetentionRule } from "./lifecycle-types";
import type { ProtectedTags } from "./ports";
import { planRetention } from "./retention";
import { backfillRefs } from "./repository-schema";
import { refusal } from "./tag-guard";

/** What one repository's step of a GC run is asked to do. */
export interface RepositoryGcOptions {
  deleteUntagged: boolean;
  /** Manifests created and blobs linked at or after this time (ms) are kept: the run's start or its grace period. */
  cutoff: number;
  dryRun: boolean;
}

/** What a repository's step deletes (or, dry, would delete), and what stays linked. */
export interface RepositoryGcPlan {
  manifests: { digest: string; size: number; external: boolean }[];
  tags: string[];
  blobLinks: { digest: string; size: number }[];
  /** The links that stay: their digests and the upload sessions holding their bytes (the run marks them). */
  kept: { digest: string; uploads: string[] }[];
  /** Manifests that stay and whose bytes are in R2 (`manifest/<name>/<digest>`). */
  external: string[];
  /** KV writes (deletes) the applied plan queued for the edge index (0 when dry). */
  edgeWrites?: number;
}

/**
 * Decides a repository's garbage (read only; the index applies the plan in one transaction):
 * - kept manifests: with `deleteUntagged`, those a tag names (a cosign tag only while its subject is kept), those
 *   created since the cutoff, and recursively every child of a kept index and every referrer of a kept manifest
 *   (OCI `subject`, and cosign tags) — so referrers whose subject goes, go with it; without it, every manifest.
 * - kept blob links: every blob a kept manifest references, and every link made since the cutoff. When some
 *   manifest's references are unknown (pushed before they were recorded, bytes in R2), no link is removed.
 * Tags an immutable rule covers are always kept.
 */
export function planRepositoryGc(sql: SqlStorage, opts: RepositoryGcOptions, protect?: ProtectedTags): RepositoryGcPlan {
  const refsComplete = backfillRefs(sql);
  const manifests = sql.exec("SELECT digest, size, bytes IS NULL AS external, created_at FROM manifests").toArray();
  const present = new Set(manifests.map((m) => m.digest as string));
  const tags = sql.exec("SELECT name, digest FROM tags").toArray().map((t) => ({ name: t.name as string, digest: t.digest as string }));
  const kept = opts.deleteUntagged ? reachable(sql, manifests, tags, opts.cutoff, protect) : present;

  const plan: RepositoryGcPlan = { manifests: [], tags: [], blobLinks: [], kept: [], external: [] };
  for (const m of manifests) {
    const digest = m.digest as string;
    if (!kept.has(digest)) plan.manifests.push({ digest, size: m.size as number, external: Boolean(m.external) });
    else if (m.external) plan.external.push(digest);
  }
  for (const t of tags) {
    const subject = cosignSubject(t.name);
    if (!kept.has(t.digest) || (opts.deleteUntagged && subject && !kept.has(subject) && !refusal(protect, [t.name]))) plan.tags.push(t.name);
  }

  const needed = new Set<string>();
  for (const digest of kept) {
    for (const r of sql.exec("SELECT digest FROM refs WHERE manifest = ? AND kind = 'blob'", digest)) needed.add(r.digest as string);
  }
  for (const b of sql.exec("SELECT digest, size, record, linked_at FROM blobs").toArray()) {
    const digest = b.digest as string;
    if (!refsComplete || needed.has(digest) || (b.linked_at as number) >= opts.cutoff) {
      plan.kept.push({ digest, uploads: uploadIds(JSON.parse(b.record as string) as BlobRecord) });
    } else {
      plan.blobLinks.push({ digest, size: b.size as number });
    }
  }
  return plan;
}

/** Manifests kept when untagged ones go: the closure of the roots over children and referrers. */
function reachable(
  sql: SqlStorage,
  manifests: readonly Record<string, SqlStorageValue>[],
  tags: readonly { name: string; digest: string }[],
  cutoff: number,
  protect?: ProtectedTags,
): Set<string> {
  const kept = new Set<string>();
  const queue: string[] = manifests.filter((m) => (m.created_at as number) >= cutoff).map((m) => m.digest as string);
  let cosign: { subject: string; digest: string }[] = [];
  for (const t of tags) {
    const subject = cosignSubject(t.name);
    if (subject && !refusal(protect, [t.name])) cosign.push({ subject, digest: t.digest });
    else queue.push(t.digest);
  }
  for (;;) {
    while (queue.length > 0) {
      const d = queue.pop()!;
      if (kept.has(d)) continue;
      kept.add(d);
      for (const r of sql.exec("SELECT digest FROM refs WHERE manifest = ? AND kind = 'manifest'", d)) queue.push(r.digest as string);
      for (const r of sql.exec("SELECT digest FROM manifests WHERE subject = ?", d)) queue.push(r.digest as string);
    }
    const ready = cosign.filter((c) => kept.has(c.subject));
    if (ready.length === 0) return kept;
    cosign = cosign.filter((c) => !kept.has(c.subject));
    queue.push(...ready.map((c) => c.digest));
  }
}

/** Applies a plan (inside the caller's transaction); returns the edge keys it touched. */
export function applyRepositoryGc(sql: SqlStorage, plan: RepositoryGcPlan): Omit<EdgeEntry, "repository">[] {
  const touched = removeTags(sql, plan.tags);
  for (const m of plan.manifests) {
    for (const t of sql.exec("SELECT name FROM tags WHERE digest = ?", m.digest).toArray()) touched.push({ kind: "tag", ref: t.name as string });
    sql.exec("DELETE FROM tags WHERE digest = ?", m.digest);
    sql.exec("DELETE FROM manifests WHERE digest = ?", m.digest);
    sql.exec("DELETE FROM refs WHERE manifest = ?", m.digest);
    touched.push({ kind: "manifest", ref: m.digest });
  }
  for (const b of plan.blobLinks) {
    sql.exec("DELETE FROM blobs WHERE digest = ?", b.digest);
    touched.push({ kind: "blob", ref: b.digest });
  }
  return touched;
}

/** Removes tags (inside the caller's transaction); returns the edge keys touched. */
export function removeTags(sql: SqlStorage, tags: readonly string[]): Omit<EdgeEntry, "repository">[] {
  for (const t of tags) sql.exec("DELETE FROM tags WHERE name = ?", t);
  return tags.map((ref) => ({ kind: "tag", ref }));
}

/** The tags retention removes from this repository under `rules`: none an immutable rule covers. */
export function retentionRemovals(sql: SqlStorage, rules: readonly RetentionRule[], now: number, protect?: ProtectedTags): string[] {
  const tags = sql
    .exec("SELECT name, checked_at, pulled_at FROM tags")
    .toArray()
    .map((t) => ({ name: t.name as string, pushedAt: t.checked_at as number, pulledAt: (t.pulled_at as number | null) ?? null }));
  return planRetention(tags, [...rules], now).remove.filter((t) => !refusal(protect, [t]));
}
