import { recordOutcome, type MetricsSink } from "@registry/core";
import { DurableObject } from "cloudflare:workers";
import type { BlobIndex } from "./blob-index";
import type { CatalogIndex } from "./catalog-index";
import { faultyBucket, faultyNamespace } from "./faults";
import { PHASES, type StepEnv } from "./gc-steps";
import { Indexes } from "./indexes";
import { LifecycleDb, publicRun, zeroCounts, zeroOps, type RunState } from "./lifecycle-db";
import { meterBucket, meterNamespace, newStorageOps, type StorageOps } from "./metered-bucket";
import type { GcOptions, JobItem, JobKind, JobRun, LifecycleJobs, RetentionOptions } from "./lifecycle-types";
import type { RegistryPolicy } from "./registry-policy";
import type { RepositoryIndex } from "./repository-index";

/** The bindings the runner works with (the registry worker's). */
export interface LifecycleEnv {
  REGISTRY_BUCKET: R2Bucket;
  REPOSITORY_INDEX: DurableObjectNamespace<RepositoryIndex>;
  CATALOG: DurableObjectNamespace<CatalogIndex>;
  BLOB_INDEX: DurableObjectNamespace<BlobIndex>;
  POLICY: DurableObjectNamespace<RegistryPolicy>;
  /** "on": the fault-injection hook (`injectFaults`) may be used — tests only. */
  GC_TEST_HOOKS?: string;
  /** Analytics Engine: one data point per finished run (README "Logs, metrics and statistics"); absent = none. */
  METRICS?: MetricsSink;
}

/** Work done per alarm before the runner hands back and sets the next alarm (keeps each invocation short). */
const STEP_BUDGET_MS = 5_000;
/** Attempts of one step in a row before a run is marked failed (the next run starts afresh). */
const MAX_ATTEMPTS = 12;
/** A run whose alarm has not fired for this long is resumed by `kick` (the cron calls it). */
const STALLED_MS = 60_000;

/**
 * Garbage collection and retention runs, one at a time, in one Durable Object (binding LIFECYCLE, named
 * "lifecycle"). A run is a sequence of bounded steps (gc-steps.ts) driven by the object's alarm: after each step
 * its phase, cursor, counts and marks are saved, so a run cut short anywhere (an error, an eviction, a deploy)
 * resumes from its last finished step when the alarm fires again — Cloudflare retries a failed alarm — or when
 * the Cron Trigger `kick`s it. Why alarms and not Queues: one run at a time, strictly ordered phases, and state
 * the steps share (the marks) — an object's alarm and its SQLite give all three without another product.
 */
export class LifecycleRunner extends DurableObject<LifecycleEnv> {
  private readonly db: LifecycleDb;
  private faultRate = 0;

  constructor(ctx: DurableObjectState, env: LifecycleEnv) {
    super(ctx, env);
    this.db = new LifecycleDb(ctx.storage);
  }

  /** Starts a run unless one is under way (then that one is returned, `started: false`). */
  async start(kind: JobKind, options: GcOptions | RetentionOptions, now = Date.now()): Promise<{ run: JobRun; started: boolean }> {
    const running = this.db.current();
    if (running) {
      await this.kick();
      return { run: publicRun(running), started: false };
    }
    const graceMs = kind === "gc" ? (options as GcOptions).graceSeconds * 1000 : 0;
    const run: RunState = {
      id: `${new Date(now).toISOString().replace(/[-:]|\.\d+Z$/g, "").replace("T", "-")}-${crypto.randomUUID().slice(0, 4)}`,
      kind,
      options,
      status: "running",
      phase: PHASES[kind][0]![0],
      cursor: null,
      done: 0,
      total: await this.repositoryCount(),
      started: now,
      cutoff: now - graceMs,
      ended: null,
      counts: zeroCounts(),
      errors: [],
      flags: {},
      stepped: now,
      ops: zeroOps(),
    };
    this.db.create(run);
    await this.ctx.storage.setAlarm(now);
    return { run: publicRun(run), started: true };
  }

  runs(n: number): JobRun[] {
    return this.db.list(n).map(publicRun);
  }

  run(id: string): JobRun | null {
    const r = this.db.get(id);
    return r ? publicRun(r) : null;
  }

  items(id: string, after: number, n: number): { items: JobItem[]; next: number | null } {
    return this.db.items(id, after, n);
  }

  /** Resumes a run whose alarm stopped firing (its retries exhausted); the Cron Trigger calls this. */
  async kick(now = Date.now()): Promise<boolean> {
    const running = this.db.current();
    if (!running || (await this.ctx.storage.getAlarm()) !== null || now - running.stepped < STALLED_MS) return false;
    await this.ctx.storage.setAlarm(now);
    return true;
  }

  /** Test hook (GC_TEST_HOOKS=on only): every storage call of the runner fails with this probability. */
  injectFaults(rate: number): void {
    if (this.env.GC_TEST_HOOKS !== "on") throw new Error("fault injection is off (GC_TEST_HOOKS)");
    this.faultRate = rate;
  }

  override async alarm(): Promise<void> {
    const began = Date.now();
    const ops = newStorageOps();
    const steps = this.stepEnv(ops);
    for (;;) {
      const run = this.db.current();
      if (!run) return;
      try {
        await this.step(run, steps, ops);
      } catch (e) {
        await this.stepFailed(run.id, e);
        return;
      }
      if (run.status !== "running") return;
      if (Date.now() - began > STEP_BUDGET_MS) {
        await this.ctx.storage.setAlarm(Date.now());
        return;
      }
    }
  }

  /** One bounded step of `run`; its progress is saved only once the step has finished. */
  private async step(run: RunState, env: StepEnv, ops: StorageOps): Promise<void> {
    const phases = PHASES[run.kind];
    const before = { ...ops };
    const at = phases.findIndex(([p]) => p === run.phase);
    const next = await phases[at]![1](run, env);
    for (const k of ["doCalls", "classA", "classB", "deletes", "kvWrites"] as const) run.ops[k] += ops[k] - before[k];
    run.cursor = next;
    run.stepped = Date.now();
    run.flags.failures = 0;
    if (next === null) {
      const following = phases[at + 1];
      run.done = 0;
      run.total = null;
      if (following) run.phase = following[0];
      else {
        run.phase = "done";
        run.status = "done";
        run.ended = Date.now();
      }
    }
    this.db.save(run);
    if (run.status !== "running") this.recordEnd(run);
  }

  /**
   * A step that failed as a whole (a listing, the catalog, the rules unreachable): recorded, and retried with
   * backoff from where the last finished step left off; after MAX_ATTEMPTS in a row the run is marked failed.
   */
  private async stepFailed(id: string, e: unknown): Promise<void> {
    const run = this.db.get(id)!;
    this.db.error(run, `step ${run.phase}`, e);
    const failures = (run.flags.failures ?? 0) + 1;
    run.flags.failures = failures;
    if (failures >= MAX_ATTEMPTS) {
      run.status = "failed";
      run.ended = Date.now();
    }
    this.db.save(run);
    if (run.status !== "running") this.recordEnd(run);
    if (run.status === "running") await this.ctx.storage.setAlarm(Date.now() + Math.min(60_000, 250 * 2 ** failures));
  }

  /** A finished run's data point: kind, outcome; doubles [1, duration ms, bytes freed, manifests, tags, blobs, errors]. */
  private recordEnd(run: RunState): void {
    const { bytesFreed, manifests, tags, blobs, errors } = run.counts;
    const figures = [(run.ended ?? Date.now()) - run.started, bytesFreed, manifests, tags, blobs, errors];
    recordOutcome(this.env.METRICS, "registry", run.kind, run.status, "", figures);
  }

  /** Storage as the steps see it: counted in `ops`, and failing at random under the fault-injection hook. */
  private stepEnv(ops: StorageOps): StepEnv {
    const rate = this.faultRate;
    const ns = <T extends Rpc.DurableObjectBranded | undefined>(n: DurableObjectNamespace<T>) =>
      meterNamespace(rate > 0 ? faultyNamespace(n, rate) : n, ops);
    const indexes = new Indexes({ repositories: ns(this.env.REPOSITORY_INDEX), catalog: ns(this.env.CATALOG), blobs: ns(this.env.BLOB_INDEX) });
    const policy = () => this.env.POLICY.get(this.env.POLICY.idFromName("policy"));
    return {
      bucket: meterBucket(rate > 0 ? faultyBucket(this.env.REGISTRY_BUCKET, rate) : this.env.REGISTRY_BUCKET, ops),
      indexes,
      immutableRules: () => policy().immutableRules(),
      retentionRules: () => policy().retentionRules(),
      db: this.db,
      now: () => Date.now(),
    };
  }

  private async repositoryCount(): Promise<number> {
    return this.env.CATALOG.get(this.env.CATALOG.idFromName("catalog")).countTracked();
  }
}

/** The runner as the admin API's port (one runner per registry, named "lifecycle"). */
export class DoLifecycleJobs implements LifecycleJobs {
  constructor(private readonly ns: DurableObjectNamespace<LifecycleRunner>) {}

  private runner(): DurableObjectStub<LifecycleRunner> {
    return this.ns.get(this.ns.idFromName("lifecycle"));
  }

  start(kind: "gc", options: GcOptions): Promise<{ run: JobRun; started: boolean }> {
    return this.runner().start(kind, options);
  }

  startRetention(options: RetentionOptions): Promise<{ run: JobRun; started: boolean }> {
    return this.runner().start("retention", options);
  }

  runs(n: number): Promise<JobRun[]> {
    return this.runner().runs(n);
  }

  run(id: string): Promise<JobRun | null> {
    return this.runner().run(id);
  }

  items(id: string, after: number, n: number): Promise<{ items: JobItem[]; next: number | null }> {
    return this.runner().items(id, after, n);
  }

  /** Resumes a stalled run (the Cron Trigger). */
  kick(): Promise<boolean> {
    return this.runner().kick();
  }
}
