import type { Descriptor } from "@registry/core";
import type { ReferrerPage } from "./repository-types";

/** Read-only queries of a repository index's tables (repository-index.ts delegates here). */

/** The stored sizes of `blobs` and of `manifests` (null where absent), in order. */
export function storedSizes(sql: SqlStorage, blobs: readonly string[], manifests: readonly string[]): { blobs: (number | null)[]; manifests: (number | null)[] } {
  const size = (table: "blobs" | "manifests", digest: string) =>
    (sql.exec(`SELECT size FROM ${table} WHERE digest = ?`, digest).toArray()[0]?.size as number | undefined) ?? null;
  return { blobs: blobs.map((d) => size("blobs", d)), manifests: manifests.map((d) => size("manifests", d)) };
}

/** Descriptors of the manifests whose subject is `subject`, in digest order after `last`, at most `n`. */
export function referrersPage(sql: SqlStorage, subject: string, n: number, last?: string): ReferrerPage {
  const rows = sql
    .exec("SELECT referrer FROM manifests WHERE subject = ? AND digest > ? ORDER BY digest LIMIT ?", subject, last ?? "", n + 1)
    .toArray();
  const items = rows.map((r) => JSON.parse(r.referrer as string) as Descriptor);
  return { items: items.slice(0, n), more: items.length > n };
}

/** The manifests that list `digest` as a child manifest (`refs`, recorded at push), at most `n`. */
export function parentsOf(sql: SqlStorage, digest: string, n: number): string[] {
  return sql
    .exec("SELECT manifest FROM refs WHERE digest = ? AND kind = 'manifest' ORDER BY manifest LIMIT ?", digest, n)
    .toArray()
    .map((r) => r.manifest as string);
}
