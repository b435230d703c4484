import { DurableObject } from "cloudflare:workers";
import type { BlobRecord } from "./blob-record";
import { joinCatalog, page } from "./catalog-index";
import { parseEdgeKey, type EdgeEntry } from "./edge-keys";
import { EdgeOutbox } from "./edge-outbox";
import { heldEntries, indexTruth } from "./edge-truth";
import type { ProtectedTags } from "./ports";
import type { RetentionRule } from "./lifecycle-types";
import {
  applyRepositoryGc,
  planRepositoryGc,
  removeTags,
  retentionRemovals,
  type RepositoryGcOptions,
  type RepositoryGcPlan,
} from "./repository-gc";
import { migrate, missingRefs, recordRefs } from "./repository-schema";
import { parentsOf, referrersPage, storedSizes } from "./repository-queries";
import { recordPulls, repositoryTotals, tagDetails, type PullCount, type TagDetail } from "./repository-stats";
import { refusal } from "./tag-guard";
import type { IndexEnv, IndexedManifest, IndexedManifestWrite, IndexWrite, NamePage, ReferrerPage } from "./repository-types";

export type { IndexEnv, IndexedManifest, IndexedManifestWrite, IndexWrite, NamePage, ReferrerPage } from "./repository-types";

/**
 * One Durable Object per repository (named by the repository): the strongly consistent index of its
 * manifests, tags, referrers and blob links, in the object's SQLite storage. All of a repository's reads
 * and writes go through this one object, so a push is visible to the next pull from any location, and
 * multi-row changes (a manifest with its tags) happen in one transaction. A pull is one call here.
 *
 * Manifests up to INLINE_LIMIT bytes are kept in the row (SQLite rows are limited to 2 MB); larger ones
 * (up to core's 4 MiB) live in R2 and the row says so.
 *
 * With an edge index (binding EDGE_INDEX), every change also marks the KV keys it touched, in its transaction,
 * and the object publishes them after the commit (EdgeOutbox): writes report how many KV writes they queued
 * (`edgeWrites`); a read asked to `publish` backfills a key the edge was missing.
 */
export const INLINE_LIMIT = 1024 * 1024;

export class RepositoryIndex extends DurableObject<IndexEnv> {
  private readonly sql: SqlStorage;
  private readonly outbox: EdgeOutbox;

  constructor(ctx: DurableObjectState, env: IndexEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
    this.outbox = new EdgeOutbox(ctx.storage, env.EDGE_INDEX, indexTruth(this.sql));
  }

  /**
   * The manifest a tag or digest names, with its bytes when `withBytes`; `publish`: the edge index lacked it
   * (an edge read's miss), so its key is published again (backfilled).
   */
  manifest(ref: { tag?: string; digest?: string }, withBytes: boolean, publish = false): IndexedManifest | null {
    const cols = withBytes ? "m.digest, m.media_type, m.size, m.bytes" : "m.digest, m.media_type, m.size";
    const rows = ref.tag
      ? this.sql.exec(
          `SELECT ${cols}, t.checked_at FROM tags t JOIN manifests m ON m.digest = t.digest WHERE t.name = ?`,
          ref.tag,
        )
      : this.sql.exec(`SELECT ${cols} FROM manifests m WHERE m.digest = ?`, ref.digest ?? "");
    const row = rows.toArray()[0];
    if (!row) return null;
    const found: IndexedManifest = {
      digest: row.digest as string,
      mediaType: row.media_type as string,
      size: row.size as number,
      bytes: withBytes && row.bytes ? new Uint8Array(row.bytes as ArrayBuffer) : null,
    };
    if (ref.tag) found.taggedAt = row.checked_at as number;
    if (publish) this.backfill(ref.tag ? { kind: "tag", ref: ref.tag } : { kind: "manifest", ref: found.digest });
    return found;
  }

  /** The stored sizes of `blobs` and `manifests` (null where absent), in order: what a manifest push must find. */
  sizes(blobs: string[], manifests: string[]): { blobs: (number | null)[]; manifests: (number | null)[] } {
    return storedSizes(this.sql, blobs, manifests);
  }

  /** Stores a manifest and (optionally) points a tag at it, in one transaction; never moves a protected tag. */
  async putManifest(repository: string, m: IndexedManifestWrite, tag?: string, protect?: ProtectedTags): Promise<IndexWrite> {
    const moved = tag ? this.sql.exec("SELECT 1 FROM tags WHERE name = ? AND digest != ?", tag, m.digest).toArray().length > 0 : false;
    const refused = moved ? refusal(protect, [tag!]) : undefined;
    if (refused) return { edgeWrites: 0, refused };
    const missing = m.references ? missingRefs(this.sql, m.references) : [];
    if (missing.length > 0) return { edgeWrites: 0, missing };
    const edgeWrites = this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO manifests (digest, media_type, size, bytes, subject, referrer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (digest) DO UPDATE SET media_type = excluded.media_type, size = excluded.size,
           bytes = excluded.bytes, subject = excluded.subject, referrer = excluded.referrer, created_at = excluded.created_at`,
        m.digest,
        m.mediaType,
        m.size,
        m.bytes,
        m.subject ?? null,
        m.referrer ? JSON.stringify(m.referrer) : null,
        Date.now(),
      );
      if (m.references) recordRefs(this.sql, m.digest, m.references);
      if (tag) {
        this.sql.exec(
          `INSERT INTO tags (name, digest, checked_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET digest = excluded.digest, checked_at = excluded.checked_at`,
          tag,
          m.digest,
          Date.now(),
        );
      }
      const touched: EdgeEntry[] = [{ kind: "manifest", repository, ref: m.digest }];
      if (tag) touched.push({ kind: "tag", repository, ref: tag });
      return this.outbox.mark(touched);
    });
    void this.outbox.publish();
    await joinCatalog(this.sql, this.env.CATALOG, repository, "name");
    return { edgeWrites };
  }

  /** Records that `tag` was found still pointing at `digest` (a pull-through cache revalidating it). */
  confirmTag(tag: string, digest: string): void {
    this.sql.exec("UPDATE tags SET checked_at = ? WHERE name = ? AND digest = ?", Date.now(), tag, digest);
  }

  /** Deletes a tag; answers once the edge index has been told (or the retry is scheduled). */
  async deleteTag(tag: string, protect?: ProtectedTags): Promise<IndexWrite & { deleted: boolean }> {
    const refused = refusal(protect, this.sql.exec("SELECT name FROM tags WHERE name = ?", tag).toArray().map((r) => r.name as string));
    if (refused) return { deleted: false, edgeWrites: 0, refused };
    const out = this.ctx.storage.transactionSync(() => {
      const deleted = this.sql.exec("DELETE FROM tags WHERE name = ?", tag).rowsWritten > 0;
      return { deleted, edgeWrites: deleted ? this.mark([{ kind: "tag", ref: tag }]) : 0 };
    });
    await this.outbox.publish();
    return out;
  }

  /**
   * Deletes a manifest and every tag pointing at it, atomically; answers once the edge index has been told.
   * Returns whether its bytes live in R2.
   */
  async deleteManifest(digest: string, protect?: ProtectedTags): Promise<IndexWrite & { deleted: boolean; external: boolean }> {
    const refused = refusal(protect, this.sql.exec("SELECT name FROM tags WHERE digest = ?", digest).toArray().map((r) => r.name as string));
    if (refused) return { deleted: false, external: false, edgeWrites: 0, refused };
    const out = this.ctx.storage.transactionSync(() => {
      const row = this.sql.exec("SELECT bytes IS NULL AS external FROM manifests WHERE digest = ?", digest).toArray()[0];
      if (!row) return { deleted: false, external: false, edgeWrites: 0 };
      const tags = this.sql.exec("SELECT name FROM tags WHERE digest = ?", digest).toArray();
      this.sql.exec("DELETE FROM tags WHERE digest = ?", digest);
      this.sql.exec("DELETE FROM manifests WHERE digest = ?", digest);
      this.sql.exec("DELETE FROM refs WHERE manifest = ?", digest);
      const touched: Omit<EdgeEntry, "repository">[] = tags.map((t) => ({ kind: "tag", ref: t.name as string }));
      const edgeWrites = this.mark([...touched, { kind: "manifest", ref: digest }]);
      return { deleted: true, external: Boolean(row.external), edgeWrites };
    });
    await this.outbox.publish();
    return out;
  }

  /** Tags in lexical (byte) order after `last`; null when the repository has never held a manifest. */
  listTags(n: number, last?: string): NamePage | null {
    const rows = this.sql
      .exec("SELECT name FROM tags WHERE name > ? ORDER BY name LIMIT ?", last ?? "", n + 1)
      .toArray();
    if (rows.length === 0 && !last && !this.known()) return null;
    return page(rows.map((r) => r.name as string), n);
  }

  /** Descriptors of the manifests whose subject is `subject`, in digest order after `last`. */
  listReferrers(subject: string, n: number, last?: string): ReferrerPage {
    return referrersPage(this.sql, subject, n, last);
  }

  /** The manifests that list `digest` as a child manifest (the indexes naming it; `refs`, recorded at push), at most `n`. */
  parents(digest: string, n: number): string[] {
    return parentsOf(this.sql, digest, n);
  }

  /** The repository's link to a blob: where its bytes are; `publish` as for `manifest`. */
  blob(digest: string, publish = false): BlobRecord | null {
    const row = this.sql.exec("SELECT record FROM blobs WHERE digest = ?", digest).toArray()[0];
    if (row && publish) this.backfill({ kind: "blob", ref: digest });
    return row ? (JSON.parse(row.record as string) as BlobRecord) : null;
  }

  /** Links a blob; the repository is tracked for garbage collection before its first link. */
  async linkBlob(digest: string, record: BlobRecord): Promise<IndexWrite> {
    const name = this.name();
    if (name) await joinCatalog(this.sql, this.env.CATALOG, name, "tracked");
    const edgeWrites = this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO blobs (digest, size, record, linked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (digest) DO UPDATE SET record = excluded.record, linked_at = excluded.linked_at`,
        digest,
        record.size,
        JSON.stringify(record),
        Date.now(),
      );
      return this.mark([{ kind: "blob", ref: digest }]);
    });
    void this.outbox.publish();
    return { edgeWrites };
  }

  /** Removes the link; answers once the edge index has been told. */
  async unlinkBlob(digest: string): Promise<IndexWrite & { deleted: boolean }> {
    const out = this.ctx.storage.transactionSync(() => {
      const deleted = this.sql.exec("DELETE FROM blobs WHERE digest = ?", digest).rowsWritten > 0;
      return { deleted, edgeWrites: deleted ? this.mark([{ kind: "blob", ref: digest }]) : 0 };
    });
    await this.outbox.publish();
    return out;
  }

  /**
   * Repairs the edge index from this index (the reconciler): marks every key the index holds and every key the
   * edge holds for this repository (`edgeKeys`, listed by the caller), so each is published with the truth —
   * rewritten, or deleted when the index no longer holds it. Returns how many keys were marked.
   */
  reconcile(edgeKeys: readonly string[]): IndexWrite {
    const edgeWrites = this.ctx.storage.transactionSync(() => {
      const held = heldEntries(this.sql);
      const seen = edgeKeys.map(parseEdgeKey).filter((e): e is EdgeEntry => e !== null && e.repository === this.name());
      return this.mark(held) + this.outbox.mark(seen);
    });
    void this.outbox.publish();
    return { edgeWrites };
  }

  /**
   * One repository's step of a garbage collection run (repository-gc.ts decides): deletes the manifests, tags and
   * blob links it no longer keeps, in one transaction, so no push interleaves (a manifest push that raced with it
   * finds its references gone and fails: `missing`). Returns the plan; `dryRun` applies nothing.
   */
  async gc(opts: RepositoryGcOptions, protect?: ProtectedTags): Promise<RepositoryGcPlan> {
    const plan = this.ctx.storage.transactionSync(() => {
      const plan = planRepositoryGc(this.sql, opts, protect);
      if (!opts.dryRun) plan.edgeWrites = this.mark(applyRepositoryGc(this.sql, plan));
      return plan;
    });
    if (!opts.dryRun) await this.outbox.publish();
    return plan;
  }

  /**
   * A retention run's step: removes the tags `rules` (those matching this repository) do not keep, never one
   * `protect` covers; returns them. `dryRun`: removes nothing.
   */
  async retain(rules: readonly RetentionRule[], now: number, dryRun: boolean, protect?: ProtectedTags): Promise<string[]> {
    const removed = this.ctx.storage.transactionSync(() => {
      const removed = retentionRemovals(this.sql, rules, now, protect);
      if (!dryRun) this.mark(removeTags(this.sql, removed));
      return removed;
    });
    if (!dryRun && removed.length > 0) await this.outbox.publish();
    return removed;
  }

  /** Adds a batch of pull counts (pull-stats.ts: one call per repository and isolate a minute at most). */
  recordPulls(counts: readonly PullCount[], at: number): void {
    recordPulls(this.sql, counts, at);
  }

  /** Tags with their manifest's type and size, push and pull times and pull counts (the web page, `pnpm admin stats`). */
  tagDetails(n: number, last?: string): { items: TagDetail[]; more: boolean } {
    return tagDetails(this.sql, n, last);
  }

  totals(): { tags: number; manifests: number; pulls: number } {
    return repositoryTotals(this.sql);
  }

  /** Keys still waiting to be published to the edge index. */
  edgePending(): number {
    return this.outbox.count();
  }

  override async alarm(): Promise<void> {
    await this.outbox.alarm();
  }

  /** Marks keys of this repository in the outbox (inside the caller's transaction). */
  private mark(entries: readonly Omit<EdgeEntry, "repository">[]): number {
    const repository = this.name();
    return repository ? this.outbox.mark(entries.map((e) => ({ ...e, repository }))) : 0;
  }

  private backfill(entry: Omit<EdgeEntry, "repository">): void {
    const repository = this.name();
    if (repository) this.outbox.backfill({ ...entry, repository });
  }

  /** The repository's name: the object's own name (from `idFromName`), else the one the catalog recorded. */
  private name(): string | undefined {
    return this.ctx.id.name ?? (this.sql.exec("SELECT value FROM meta WHERE key = 'name'").toArray()[0]?.value as string | undefined);
  }

  private known(): boolean {
    return this.sql.exec("SELECT 1 FROM meta WHERE key = 'name'").toArray().length > 0;
  }
}
