import { isDigest, recordOutcome, type MetricsSink } from "@registry/core";
import type { ReplicationExecution, ReplicationRule, ReplicationStore } from "@registry/storage";
import type { deleteReplica, replicate, SourceReader, TargetRegistry } from "@registry/replication";
import { ruleCovers, targetRepositoryOf, type ReplicationMessage } from "./rules";

/**
 * The queue consumer of replication (issue 11 §1): each message is one rule and one reference; it is copied to the
 * rule's target (`replicate`: children before parents, blobs, the referrer tree, the tag last) or deleted there
 * (`deleteReplica`), and the execution is recorded. A failure is retried with a growing delay (`retryBaseSec`
 * doubled per attempt, at most an hour) until `maxAttempts`, each attempt recorded with the target's message; the
 * copy is idempotent, so a retry redoes only what is missing.
 */
export interface ConsumerDeps {
  store: ReplicationStore;
  source: SourceReader;
  /** The worker's bindings: a rule's `target.credentials` names one holding "username:password". */
  secrets: Record<string, unknown>;
  replicate: typeof replicate;
  deleteReplica: typeof deleteReplica;
  /** The fetch for targets (tests pass a fake). */
  fetch?: typeof fetch;
  /** The first retry's delay in seconds (REPLICATION_RETRY_DELAY, default 30). */
  retryBaseSec: number;
  /** Attempts before an execution is given up as failed (REPLICATION_MAX_ATTEMPTS, default 8). */
  maxAttempts: number;
  /** Analytics Engine (METRICS): one data point per attempt's outcome; absent = none. */
  metrics?: MetricsSink | undefined;
}

/** The longest delay between two attempts. */
const MAX_DELAY_SEC = 3600;

/** Seconds to wait before attempt `attempts + 1`: base, 2×base, 4×base, … at most an hour. */
export function retryDelay(attempts: number, baseSec: number): number {
  return Math.min(MAX_DELAY_SEC, Math.round(baseSec * 2 ** Math.max(0, attempts - 1)));
}

/** The rule's target with its credentials resolved from the bindings; an Error naming what is missing. */
export function targetOf(rule: ReplicationRule, secrets: Record<string, unknown>): TargetRegistry {
  const name = rule.target.credentials;
  if (!name) return { url: rule.target.url };
  const value = secrets[name];
  if (typeof value !== "string" || !value.includes(":")) throw new Error(`the secret ${name} (username:password for ${rule.target.url}) is not set`);
  const colon = value.indexOf(":");
  return { url: rule.target.url, username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** Consumes a batch: every message acknowledged, or retried with its delay. */
export async function consumeReplication(messages: readonly Message<ReplicationMessage>[], deps: ConsumerDeps): Promise<void> {
  await Promise.all(messages.map((m) => consumeOne(m, deps)));
}

async function consumeOne(message: Message<ReplicationMessage>, deps: ConsumerDeps): Promise<void> {
  const job = message.body;
  const rule = await deps.store.rule(job.rule);
  if (!rule || !(await wanted(rule, job, deps.source))) {
    message.ack();
    return;
  }
  const execution: ReplicationExecution = {
    id: job.id,
    rule: rule.id,
    repository: job.repository,
    reference: job.reference,
    op: job.op,
    trigger: job.trigger,
    started: job.queued,
    ended: null,
    bytes: 0,
    outcome: "running",
    attempts: message.attempts,
    error: null,
  };
  await deps.store.record(execution);
  try {
    const target = targetOf(rule, deps.secrets);
    const repository = targetRepositoryOf(rule, job.repository);
    const fetcher = deps.fetch ? { fetch: deps.fetch } : {};
    if (job.op === "delete") {
      await deps.deleteReplica({ target, repository, reference: job.reference, ...fetcher });
    } else {
      const report = await deps.replicate({
        source: deps.source,
        target,
        repository: job.repository,
        targetRepository: repository,
        reference: job.reference,
        referrers: rule.referrers,
        ...fetcher,
      });
      execution.bytes = report.bytes;
    }
    await deps.store.record({ ...execution, outcome: "ok", ended: new Date().toISOString() });
    outcome(deps, execution, "ok");
    message.ack();
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    const last = message.attempts >= deps.maxAttempts;
    await deps.store.record({ ...execution, outcome: last ? "failed" : "retrying", ended: new Date().toISOString(), error: error.slice(0, 2000) });
    outcome(deps, execution, last ? "failed" : "retrying");
    console.warn(JSON.stringify({ event: "replication-failed", id: job.id, rule: rule.id, reference: `${job.repository}:${job.reference}`, attempts: message.attempts, error }));
    if (last) message.ack();
    else message.retry({ delaySeconds: retryDelay(message.attempts, deps.retryBaseSec) });
  }
}

/** An attempt's data point: blobs [registry, replication, outcome, repository]; doubles [1, duration ms, bytes, attempts]. */
function outcome(deps: ConsumerDeps, execution: ReplicationExecution, result: string): void {
  const ms = Date.now() - Date.parse(execution.started);
  recordOutcome(deps.metrics, "registry", "replication", result, execution.repository, [Number.isFinite(ms) ? ms : 0, execution.bytes, execution.attempts]);
}

/**
 * Whether the rule still wants this message: a copy whose source is gone is dropped (a later push or delete
 * supersedes it), and a referrer pushed by itself goes only where its subject went — under a tag filter, when a
 * tag the filter matches names the subject.
 */
async function wanted(rule: ReplicationRule, job: ReplicationMessage, source: SourceReader): Promise<boolean> {
  if (!ruleCovers(rule, job.repository, job.referrerPush ? undefined : job.reference)) return false;
  if (job.op === "delete") return true;
  if (!job.referrerPush || rule.tags === "*" || !isDigest(job.reference)) return true;
  for (const tag of (await source.tags(job.repository)).slice(0, 1000)) {
    if (!ruleCovers(rule, job.repository, tag)) continue;
    if ((await source.manifest(job.repository, tag))?.digest === job.reference) return true;
  }
  return false;
}
