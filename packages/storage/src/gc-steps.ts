import { matchesRepositoryPattern, type Digest, type RepositoryName } from "@registry/core";
import { BLOB_SHARDS, uploadIds, type CondemnedBlob } from "./blob-index";
import type { Indexes } from "./indexes";
import { keys } from "./keys";
import type { LifecycleDb, RunState } from "./lifecycle-db";
import type { GcOptions, JobPhase, RetentionRule } from "./lifecycle-types";
import type { ImmutableRule } from "./ports";
import { rulesFor } from "./retention";
import type { UploadState } from "./upload-session";

/**
 * The bounded steps of lifecycle runs (STORAGE.md "Garbage collection"). Each step does a fixed amount of work
 * (REPOSITORIES_PER_STEP repositories, SHARDS_PER_STEP blob-index shards, one R2 listing page) and returns the
 * cursor to continue from, or null when its phase is finished. A step that is cut short is simply run again:
 * every deletion it makes is idempotent.
 */
export const REPOSITORIES_PER_STEP = 20;
export const SHARDS_PER_STEP = 32;
export const LIST_PAGE = 500;
/** Manifest bytes in R2 are kept this much longer than the grace period (their row is written after them). */
const MANIFEST_BYTES_MARGIN_MS = 5 * 60_000;

/** What steps work with: storage (possibly wrapped by the fault-injection hook), the rules, the run's tables. */
export interface StepEnv {
  bucket: R2Bucket;
  indexes: Indexes;
  immutableRules(): Promise<ImmutableRule[]>;
  retentionRules(): Promise<RetentionRule[]>;
  db: LifecycleDb;
  now(): number;
}

export type Step = (run: RunState, env: StepEnv) => Promise<string | null>;

/** The phases of each kind of run, in order, with their steps. */
export const PHASES: Record<RunState["kind"], readonly [JobPhase, Step][]> = {
  gc: [
    ["repositories", gcRepositories],
    ["blobs", sweepBlobs],
    ["uploads", sweepUploads],
    ["orphans", sweepOrphans],
  ],
  retention: [["repositories", retainRepositories]],
};

function gcOptions(run: RunState): GcOptions {
  return run.options as GcOptions;
}

/** Repositories: each applies its own plan in one transaction and reports what stays linked (marked). */
async function gcRepositories(run: RunState, env: StepEnv): Promise<string | null> {
  const page = await env.indexes.catalog().listTracked(REPOSITORIES_PER_STEP, run.cursor ?? undefined);
  const rules = await env.immutableRules();
  await Promise.all(page.items.map((name) => gcRepository(run, env, name as RepositoryName, rules)));
  run.done += page.items.length;
  return page.more ? page.items[page.items.length - 1]! : null;
}

/** One repository's step: its plan applied by its own object; what stays linked is marked. */
async function gcRepository(run: RunState, env: StepEnv, name: RepositoryName, rules: readonly ImmutableRule[]): Promise<void> {
  const { dryRun, deleteUntagged } = gcOptions(run);
  try {
    const protect = rules.filter((r) => matchesRepositoryPattern(r.repository, name));
    const plan = await env.indexes.repository(name).gc({ deleteUntagged, cutoff: run.cutoff, dryRun }, protect);
    for (const k of plan.kept) env.db.mark(k.digest, k.uploads);
    for (const e of plan.external) env.db.keepKey(keys.manifest(name, e as Digest));
    for (const t of plan.tags) env.db.item(run, { kind: "tag", repository: name, ref: t, size: 0 });
    for (const m of plan.manifests) {
      // Its row is gone; bytes left in R2 by a failed delete are swept as orphans by the next run.
      if (m.external && !dryRun) {
        await env.bucket.delete(keys.manifest(name, m.digest as Digest)).catch((e: unknown) => env.db.error(run, `manifest bytes ${name}@${m.digest}`, e));
      }
      env.db.item(run, { kind: "manifest", repository: name, ref: m.digest, size: m.external ? m.size : 0 });
    }
    for (const b of plan.blobLinks) env.db.item(run, { kind: "blob-link", repository: name, ref: b.digest, size: 0 });
  } catch (e) {
    env.db.error(run, `repository ${name}`, e);
    run.flags.unmarked = true;
  }
}

/**
 * Blob bytes: each shard of the blob index condemns the digests no repository linked (and untouched since the
 * cutoff); their bytes are deleted, then their rows. Skipped when a repository's links are unknown.
 */
async function sweepBlobs(run: RunState, env: StepEnv): Promise<string | null> {
  const from = Number(run.cursor ?? 0);
  const to = Math.min(BLOB_SHARDS.length, from + SHARDS_PER_STEP);
  await Promise.all(BLOB_SHARDS.slice(from, to).map((shard) => sweepShard(run, env, shard)));
  run.done = to;
  run.total = BLOB_SHARDS.length;
  return to < BLOB_SHARDS.length ? String(to) : null;
}

/** One shard: its condemned rows' bytes deleted, then the rows; the upload ids its live rows use are noted. */
async function sweepShard(run: RunState, env: StepEnv, shard: string): Promise<void> {
  const { dryRun } = gcOptions(run);
  try {
    const stub = env.indexes.blobs.shard(shard);
    // With a repository's links unknown (`unmarked`) nothing is condemned: everything counts as marked.
    const { condemned, live } = await stub.sweep(env.db.markedIn(shard), run.flags.unmarked ? Number.NEGATIVE_INFINITY : run.cutoff, dryRun);
    const failed = dryRun ? new Set<string>() : await deleteBytes(run, env, condemned);
    const gone: string[] = [];
    for (const c of condemned) {
      if (failed.has(c.digest)) continue;
      if (!dryRun) gone.push(c.digest);
      env.db.item(run, { kind: "blob", repository: null, ref: c.digest, size: c.record.size });
    }
    if (gone.length > 0) await stub.forget(gone);
    for (const u of live) env.db.liveUpload(u);
    // Dry, the condemned bytes are still there: the orphan sweep must not list them a second time.
    if (dryRun) for (const c of condemned) for (const u of uploadIds(c.record)) env.db.liveUpload(u);
  } catch (e) {
    env.db.error(run, `blob index shard ${shard}`, e);
    run.flags.shardsUnknown = true;
  }
}

/** R2 deletes up to this many keys per call. */
const DELETE_BATCH = 1000;

/** Deletes the bytes of condemned blobs, many keys per R2 call; returns the digests whose bytes may remain. */
async function deleteBytes(run: RunState, env: StepEnv, condemned: readonly CondemnedBlob[]): Promise<Set<string>> {
  const failed = new Set<string>();
  let batch: CondemnedBlob[] = [];
  let keys: string[] = [];
  const flush = async () => {
    if (keys.length === 0) return;
    try {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) await env.bucket.delete(keys.slice(i, i + DELETE_BATCH));
    } catch (e) {
      for (const c of batch) {
        failed.add(c.digest);
        env.db.error(run, `blob ${c.digest}`, e);
      }
    }
    batch = [];
    keys = [];
  };
  for (const c of condemned) {
    if (keys.length + c.record.segments.length > DELETE_BATCH) await flush();
    batch.push(c);
    keys.push(...c.record.segments.map((s) => s.key));
  }
  await flush();
  return failed;
}

/** Upload sessions idle for longer than the upload grace: their bytes (and any open multipart upload), then the session. */
async function sweepUploads(run: RunState, env: StepEnv): Promise<string | null> {
  const { dryRun, uploadGraceSeconds } = gcOptions(run);
  const idleSince = env.now() - uploadGraceSeconds * 1000;
  const listed = await env.bucket.list({ prefix: "upload/", limit: LIST_PAGE, ...(run.cursor ? { cursor: run.cursor } : {}) });
  for (const obj of listed.objects) {
    if (obj.uploaded.getTime() >= idleSince) continue;
    try {
      const got = await env.bucket.get(obj.key);
      if (!got) continue;
      const state = JSON.parse(await got.text()) as UploadState;
      if (!dryRun) {
        if (state.open) await env.bucket.resumeMultipartUpload(state.open.key, state.open.uploadId).abort().catch(() => undefined);
        if (state.segments.length > 0) await env.bucket.delete(state.segments.map((s) => s.key));
        await env.bucket.delete(obj.key);
      }
      env.db.item(run, { kind: "upload", repository: state.repository, ref: state.id, size: state.size });
    } catch (e) {
      env.db.error(run, `upload ${obj.key}`, e);
    }
  }
  run.done += listed.objects.length;
  return listed.truncated ? listed.cursor : null;
}

/** Where the orphan sweep is: which R2 prefix, and the listing cursor in it. */
interface OrphanCursor {
  prefix: "data/" | "manifest/" | "blob/";
  cursor?: string;
}
const NEXT_PREFIX = { "data/": "manifest/", "manifest/": "blob/", "blob/": null } as const;

/**
 * R2 objects nothing refers to: upload data no session, link or blob-index row uses (older than the upload
 * grace), manifest bytes of manifests no repository holds (a refused or deleted push), and the old global blob
 * records (`blob/…`, replaced by the blob index). One listing page per step.
 */
async function sweepOrphans(run: RunState, env: StepEnv): Promise<string | null> {
  const { dryRun, uploadGraceSeconds } = gcOptions(run);
  const at: OrphanCursor = run.cursor ? (JSON.parse(run.cursor) as OrphanCursor) : { prefix: "data/" };
  const skip = at.prefix === "blob/" ? false : at.prefix === "data/" ? run.flags.unmarked || run.flags.shardsUnknown : run.flags.unmarked;
  const listed = skip ? null : await env.bucket.list({ prefix: at.prefix, limit: LIST_PAGE, ...(at.cursor ? { cursor: at.cursor } : {}) });
  const sessions = new Map<string, Promise<boolean>>();
  const hasSession = (id: string) => {
    if (!sessions.has(id)) sessions.set(id, env.bucket.head(keys.upload(id)).then((o) => o !== null));
    return sessions.get(id)!;
  };
  const dataCutoff = env.now() - uploadGraceSeconds * 1000;
  for (const obj of listed?.objects ?? []) {
    try {
      const uploaded = obj.uploaded.getTime();
      if (at.prefix === "data/") {
        const id = obj.key.split("/")[1] ?? "";
        if (uploaded >= dataCutoff || env.db.uploadInUse(id) || (await hasSession(id))) continue;
      } else if (at.prefix === "manifest/") {
        if (uploaded >= run.cutoff - MANIFEST_BYTES_MARGIN_MS || env.db.keptKey(obj.key)) continue;
      }
      if (!dryRun) await env.bucket.delete(obj.key);
      env.db.item(run, { kind: at.prefix === "manifest/" ? "manifest-bytes" : "data", repository: null, ref: obj.key, size: obj.size });
    } catch (e) {
      env.db.error(run, `object ${obj.key}`, e);
    }
  }
  run.done += listed?.objects.length ?? 0;
  if (listed?.truncated) return JSON.stringify({ prefix: at.prefix, cursor: listed.cursor });
  const next = NEXT_PREFIX[at.prefix];
  return next ? JSON.stringify({ prefix: next }) : null;
}

/** Retention: each repository a rule matches removes the tags no rule keeps (never an immutable one). */
async function retainRepositories(run: RunState, env: StepEnv): Promise<string | null> {
  const { dryRun } = run.options;
  const page = await env.indexes.catalog().listTracked(REPOSITORIES_PER_STEP, run.cursor ?? undefined);
  const [rules, immutable] = await Promise.all([env.retentionRules(), env.immutableRules()]);
  for (const item of page.items) {
    const name = item as RepositoryName;
    const matching = rulesFor(name, rules);
    if (matching.length === 0) continue;
    try {
      const protect = immutable.filter((r) => matchesRepositoryPattern(r.repository, name));
      const removed = await env.indexes.repository(name).retain(matching, env.now(), dryRun, protect);
      for (const t of removed) env.db.item(run, { kind: "tag", repository: name, ref: t, size: 0 });
    } catch (e) {
      env.db.error(run, `repository ${name}`, e);
    }
  }
  run.done += page.items.length;
  return page.more ? page.items[page.items.length - 1]! : null;
}
