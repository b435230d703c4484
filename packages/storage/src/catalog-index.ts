import { DurableObject } from "cloudflare:workers";
import type { NamePage } from "./repository-index";

/**
 * The catalog: one Durable Object listing every repository that has received a manifest (`_catalog`), and every
 * repository that ever linked a blob or held a manifest (`tracked`: what garbage collection walks, so a
 * repository holding only blobs, its manifest not pushed yet, keeps them).
 */
export class CatalogIndex extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS repositories (name TEXT PRIMARY KEY)");
    if (this.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'tracked'").toArray().length === 0) {
      this.sql.exec("CREATE TABLE tracked (name TEXT PRIMARY KEY); INSERT INTO tracked SELECT name FROM repositories");
    }
  }

  add(name: string): void {
    this.sql.exec("INSERT OR IGNORE INTO repositories (name) VALUES (?)", name);
    this.track(name);
  }

  /** Records a repository that links a blob (before its first link is written). */
  track(name: string): void {
    this.sql.exec("INSERT OR IGNORE INTO tracked (name) VALUES (?)", name);
  }

  /** Every repository that ever linked a blob or held a manifest, in byte order after `last`. */
  listTracked(n: number, last?: string): NamePage {
    const rows = this.sql.exec("SELECT name FROM tracked WHERE name > ? ORDER BY name LIMIT ?", last ?? "", n + 1).toArray();
    return page(rows.map((r) => r.name as string), n);
  }

  /** How many repositories `listTracked` lists. */
  countTracked(): number {
    return this.sql.exec("SELECT count(*) AS n FROM tracked").one().n as number;
  }

  list(n: number, last?: string): NamePage {
    const rows = this.sql
      .exec("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?", last ?? "", n + 1)
      .toArray();
    return page(rows.map((r) => r.name as string), n);
  }

  /**
   * Repository names containing `text` (a substring, case-sensitive; empty = all), in byte order after `last`,
   * skipping the first `skip` of them, at most `n`: the web page's search (an indexed range scan from `last`,
   * filtered as it goes; never the whole list).
   */
  search(text: string, n: number, last?: string, skip = 0): NamePage {
    const rows = this.sql
      .exec(
        "SELECT name FROM repositories WHERE name > ? AND instr(name, ?) > 0 ORDER BY name LIMIT ? OFFSET ?",
        last ?? "",
        text,
        n + 1,
        skip,
      )
      .toArray();
    return page(rows.map((r) => r.name as string), n);
  }
}

/** The first `n` of `items` (which holds up to n + 1), and whether there were more. */
export function page(items: string[], n: number): NamePage {
  return { items: items.slice(0, n), more: items.length > n };
}

/**
 * Adds a repository to the catalog once, remembered in its own `meta` table: as `name` when it first receives a
 * manifest (`_catalog` lists it), as `tracked` before its first blob link (garbage collection walks it).
 */
export async function joinCatalog(
  sql: SqlStorage,
  catalog: DurableObjectNamespace<CatalogIndex>,
  name: string,
  as: "name" | "tracked",
): Promise<void> {
  if (sql.exec("SELECT 1 FROM meta WHERE key = ?", as).toArray().length > 0) return;
  const stub = catalog.get(catalog.idFromName("catalog"));
  await (as === "name" ? stub.add(name) : stub.track(name));
  sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", as, as === "name" ? name : "1");
}
