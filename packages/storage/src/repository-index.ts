import { DurableObject } from "cloudflare:workers";
import type { Descriptor } from "@registry/core";
import type { BlobRecord } from "./blob-record";

/**
 * One Durable Object per repository (named by the repository): the strongly consistent index of its
 * manifests, tags, referrers and blob links, in the object's SQLite storage. All of a repository's reads
 * and writes go through this one object, so a push is visible to the next pull from any location, and
 * multi-row changes (a manifest with its tags) happen in one transaction. A pull is one call here.
 *
 * Manifests up to INLINE_LIMIT bytes are kept in the row (SQLite rows are limited to 2 MB); larger ones
 * (up to core's 4 MiB) live in R2 and the row says so.
 */
export const INLINE_LIMIT = 1024 * 1024;

/** A manifest row as the index returns it: bytes inline, or null when they are in R2. */
export interface IndexedManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Uint8Array | null;
  /** For a lookup by tag: when the tag was last set or confirmed (ms since the epoch). */
  taggedAt?: number;
}

export interface IndexedManifestWrite {
  digest: string;
  mediaType: string;
  size: number;
  /** null: the bytes were written to R2 by the caller (too large for a row). */
  bytes: Uint8Array | null;
  subject?: string;
  referrer?: Descriptor;
}

export interface NamePage {
  items: string[];
  more: boolean;
}

export interface ReferrerPage {
  items: Descriptor[];
  more: boolean;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS manifests (
    digest TEXT PRIMARY KEY, media_type TEXT NOT NULL, size INTEGER NOT NULL, bytes BLOB,
    subject TEXT, referrer TEXT);
  CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (subject, digest);
  CREATE TABLE IF NOT EXISTS tags (name TEXT PRIMARY KEY, digest TEXT NOT NULL, checked_at INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS tags_digest ON tags (digest);
  CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, record TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

type Row = Record<string, SqlStorageValue>;

export class RepositoryIndex extends DurableObject<{ CATALOG: DurableObjectNamespace<CatalogIndex> }> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: { CATALOG: DurableObjectNamespace<CatalogIndex> }) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** The manifest a tag or digest names, with its bytes when `withBytes`. */
  manifest(ref: { tag?: string; digest?: string }, withBytes: boolean): IndexedManifest | null {
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
    return found;
  }

  /**
   * The stored sizes of `blobs` and of `manifests` (null where absent), in order: everything a manifest push
   * must find, in one call.
   */
  sizes(blobs: string[], manifests: string[]): { blobs: (number | null)[]; manifests: (number | null)[] } {
    const size = (table: "blobs" | "manifests", digest: string) =>
      (this.sql.exec(`SELECT size FROM ${table} WHERE digest = ?`, digest).toArray()[0]?.size as number | undefined) ?? null;
    return { blobs: blobs.map((d) => size("blobs", d)), manifests: manifests.map((d) => size("manifests", d)) };
  }

  /** Stores a manifest and (optionally) points a tag at it, in one transaction. */
  async putManifest(repository: string, m: IndexedManifestWrite, tag?: string): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO manifests (digest, media_type, size, bytes, subject, referrer) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (digest) DO UPDATE SET media_type = excluded.media_type, size = excluded.size,
           bytes = excluded.bytes, subject = excluded.subject, referrer = excluded.referrer`,
        m.digest,
        m.mediaType,
        m.size,
        m.bytes,
        m.subject ?? null,
        m.referrer ? JSON.stringify(m.referrer) : null,
      );
      if (tag) {
        this.sql.exec(
          `INSERT INTO tags (name, digest, checked_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET digest = excluded.digest, checked_at = excluded.checked_at`,
          tag,
          m.digest,
          Date.now(),
        );
      }
    });
    await this.register(repository);
  }

  /** Records that `tag` was found still pointing at `digest` (a pull-through cache revalidating it). */
  confirmTag(tag: string, digest: string): void {
    this.sql.exec("UPDATE tags SET checked_at = ? WHERE name = ? AND digest = ?", Date.now(), tag, digest);
  }

  deleteTag(tag: string): boolean {
    return this.sql.exec("DELETE FROM tags WHERE name = ?", tag).rowsWritten > 0;
  }

  /** Deletes a manifest and every tag pointing at it, atomically. Returns whether its bytes live in R2. */
  deleteManifest(digest: string): { deleted: boolean; external: boolean } {
    return this.ctx.storage.transactionSync(() => {
      const row = this.sql.exec("SELECT bytes IS NULL AS external FROM manifests WHERE digest = ?", digest).toArray()[0];
      if (!row) return { deleted: false, external: false };
      this.sql.exec("DELETE FROM tags WHERE digest = ?", digest);
      this.sql.exec("DELETE FROM manifests WHERE digest = ?", digest);
      return { deleted: true, external: Boolean(row.external) };
    });
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
    const rows = this.sql
      .exec(
        "SELECT referrer FROM manifests WHERE subject = ? AND digest > ? ORDER BY digest LIMIT ?",
        subject,
        last ?? "",
        n + 1,
      )
      .toArray();
    const items = rows.map((r: Row) => JSON.parse(r.referrer as string) as Descriptor);
    return { items: items.slice(0, n), more: items.length > n };
  }

  /** The repository's link to a blob: where its bytes are. */
  blob(digest: string): BlobRecord | null {
    const row = this.sql.exec("SELECT record FROM blobs WHERE digest = ?", digest).toArray()[0];
    return row ? (JSON.parse(row.record as string) as BlobRecord) : null;
  }

  linkBlob(digest: string, record: BlobRecord): void {
    this.sql.exec(
      "INSERT INTO blobs (digest, size, record) VALUES (?, ?, ?) ON CONFLICT (digest) DO UPDATE SET record = excluded.record",
      digest,
      record.size,
      JSON.stringify(record),
    );
  }

  unlinkBlob(digest: string): boolean {
    return this.sql.exec("DELETE FROM blobs WHERE digest = ?", digest).rowsWritten > 0;
  }

  private known(): boolean {
    return this.sql.exec("SELECT 1 FROM meta WHERE key = 'name'").toArray().length > 0;
  }

  /** Adds the repository to the catalog the first time it receives a manifest. */
  private async register(name: string): Promise<void> {
    if (this.known()) return;
    await this.env.CATALOG.get(this.env.CATALOG.idFromName("catalog")).add(name);
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('name', ?)", name);
  }
}

/** The catalog: one Durable Object listing every repository that has received a manifest. */
export class CatalogIndex extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS repositories (name TEXT PRIMARY KEY)");
  }

  add(name: string): void {
    this.sql.exec("INSERT OR IGNORE INTO repositories (name) VALUES (?)", name);
  }

  list(n: number, last?: string): NamePage {
    const rows = this.sql
      .exec("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?", last ?? "", n + 1)
      .toArray();
    return page(rows.map((r) => r.name as string), n);
  }
}

function page(items: string[], n: number): NamePage {
  return { items: items.slice(0, n), more: items.length > n };
}
