import type { RepositoryName } from "@registry/core";
import { edgePrefixes } from "./edge-keys";
import type { Indexes } from "./indexes";

/** Where the reconciler stopped in the catalog (a KV key outside the edge layout). */
export const RECONCILE_CURSOR_KEY = "reconcile:cursor";

/** What one reconcile step did. */
export interface ReconcileReport {
  /** Repositories reconciled in this step, in catalog order. */
  repositories: string[];
  /** Edge keys marked for publishing (each is rewritten with the truth, or deleted). */
  marked: number;
  /** True when the catalog was walked to its end (the next step starts again from the beginning). */
  wrapped: boolean;
}

/**
 * One bounded step of the reconciler, which repairs the edge index from the Durable Objects: for each of the
 * next `limit` repositories of the catalog (after the stored cursor), lists the keys KV holds for it and asks the
 * repository's object to republish those keys and every key it holds — so a lost or failed write is rewritten,
 * and a key for something deleted is removed. Run from the worker's Cron Trigger; safe to run at any time and
 * concurrently with pushes (every publish writes the index's truth at that moment).
 */
export async function reconcileEdge(kv: KVNamespace, indexes: Indexes, limit = 25): Promise<ReconcileReport> {
  const after = (await kv.get(RECONCILE_CURSOR_KEY)) ?? undefined;
  const page = await indexes.catalog().list(limit, after);
  let marked = 0;
  for (const name of page.items) {
    const held = await listKeys(kv, edgePrefixes(name));
    marked += (await indexes.repository(name as RepositoryName).reconcile(held)).edgeWrites;
  }
  const last = page.items.at(-1);
  if (page.more && last) await kv.put(RECONCILE_CURSOR_KEY, last);
  else await kv.delete(RECONCILE_CURSOR_KEY);
  return { repositories: page.items, marked, wrapped: !page.more };
}

/** Every key KV holds under the prefixes, following list cursors. */
async function listKeys(kv: KVNamespace, prefixes: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of prefixes) {
    let cursor: string | undefined;
    do {
      const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) });
      out.push(...page.keys.map((k) => k.name));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
  }
  return out;
}
