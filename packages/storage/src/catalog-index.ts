import { DurableObject } from "cloudflare:workers";
import type { NamePage } from "./repository-index";

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

  /** How many repositories the catalog lists. */
  count(): number {
    return this.sql.exec("SELECT count(*) AS n FROM repositories").one().n as number;
  }

  list(n: number, last?: string): NamePage {
    const rows = this.sql
      .exec("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?", last ?? "", n + 1)
      .toArray();
    return page(rows.map((r) => r.name as string), n);
  }
}

/** The first `n` of `items` (which holds up to n + 1), and whether there were more. */
export function page(items: string[], n: number): NamePage {
  return { items: items.slice(0, n), more: items.length > n };
}
