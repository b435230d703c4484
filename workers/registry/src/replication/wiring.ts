import type { RouteMiddleware } from "@registry/api";
import { deleteReplica, replicate } from "@registry/replication";
import { createStores, DoReplicationStore } from "@registry/storage";
import type { ReplicationAdminDeps } from "../admin-replication";
import type { Env } from "../index";
import { consumeReplication } from "./consumer";
import { enqueueRules } from "./enqueue";
import { emitReplicationEvents, RuleCache } from "./events";
import type { ReplicationMessage } from "./rules";
import { StoreSource } from "./source";

/**
 * Replication's wiring (issue 11 §1): bindings → the rules store (REPLICATION), the queue (REPLICATION_QUEUE), this
 * registry's stores as the source. A registry without the REPLICATION binding (or without the queue: the local
 * `replica`) replicates nothing and emits no events.
 */

function storesOf(env: Env) {
  return createStores(env.REGISTRY_BUCKET, { repositories: env.REPOSITORY_INDEX, catalog: env.CATALOG, blobs: env.BLOB_INDEX });
}

let events: { env: Env; middleware: RouteMiddleware[] } | undefined;

/** The push trigger's middleware, with this isolate's cache of the rules (5 s); none without the bindings. */
export function replicationEventsFor(env: Env): RouteMiddleware[] {
  if (events?.env !== env) {
    const on = env.REPLICATION && env.REPLICATION_QUEUE;
    const middleware = on ? [emitReplicationEvents(new RuleCache(new DoReplicationStore(env.REPLICATION)), env.REPLICATION_QUEUE)] : [];
    events = { env, middleware };
  }
  return events.middleware;
}

/** What the admin API's replication routes need; undefined without the REPLICATION binding. */
export function replicationAdminFor(env: Env): ReplicationAdminDeps | undefined {
  if (!env.REPLICATION) return undefined;
  return { store: new DoReplicationStore(env.REPLICATION), queue: env.REPLICATION_QUEUE, manifests: storesOf(env).manifests };
}

const number = (value: string | undefined, fallback: number) => (value && Number.isFinite(Number(value)) ? Number(value) : fallback);

/** The queue consumer over this registry's stores, the rules store and the bindings holding target credentials. */
export async function replicationQueue(batch: MessageBatch<ReplicationMessage>, env: Env): Promise<void> {
  await consumeReplication(batch.messages, {
    store: new DoReplicationStore(env.REPLICATION),
    source: new StoreSource(storesOf(env)),
    secrets: env as unknown as Record<string, unknown>,
    replicate,
    deleteReplica,
    retryBaseSec: number(env.REPLICATION_RETRY_DELAY, 30),
    maxAttempts: number(env.REPLICATION_MAX_ATTEMPTS, 8),
    metrics: env.METRICS,
  });
}

/** REPLICATION_CRON: every tag every rule covers, queued. */
export async function scheduledReplication(env: Env): Promise<void> {
  if (!env.REPLICATION || !env.REPLICATION_QUEUE) return;
  const rules = await new DoReplicationStore(env.REPLICATION).rules();
  if (rules.length === 0) return;
  const report = await enqueueRules(rules, storesOf(env).manifests, env.REPLICATION_QUEUE, "schedule");
  console.log(JSON.stringify({ event: "replication-scheduled", rules: rules.length, ...report }));
}
