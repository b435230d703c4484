/**
 * The lifecycle jobs' shapes (garbage collection and retention runs), shared by the job runner (gc-runner.ts),
 * the registry's admin API and `pnpm admin gc` / `pnpm admin retention`. How a run works: ../STORAGE.md
 * "Garbage collection".
 */

/** What a garbage collection run is asked to do. */
export interface GcOptions {
  /** Report what a real run would delete; delete nothing. */
  dryRun: boolean;
  /** Also delete manifests no tag keeps (and referrers whose subject goes), as distribution's and Harbor's GC offer. */
  deleteUntagged: boolean;
  /** Blobs and manifests linked or written within this many seconds before the run are kept (default 3600). */
  graceSeconds: number;
  /** Upload sessions idle for longer than this are swept, with their bytes (default 86400). */
  uploadGraceSeconds: number;
}

/** What a retention run is asked to do (its rules are the registry's retention rules). */
export interface RetentionOptions {
  dryRun: boolean;
}

export type JobKind = "gc" | "retention";

/** The steps of a run, in order (a retention run has only "repositories"). */
export type JobPhase = "repositories" | "blobs" | "uploads" | "orphans" | "done";

/** What a run deleted (or, dry, would delete). */
export interface JobCounts {
  /** Manifests deleted. */
  manifests: number;
  /** Tags removed (retention; GC removes a tag only with its manifest, or a cosign tag whose subject is gone). */
  tags: number;
  /** Repository links to blobs removed. */
  blobLinks: number;
  /** Blobs whose bytes were deleted from R2 (no repository links them any more). */
  blobs: number;
  /** Upload sessions swept. */
  uploads: number;
  /** Bytes deleted from R2 (blobs, upload data, manifests kept in R2). */
  bytesFreed: number;
  /** Items that failed (recorded in `errors`; the run went on). */
  errors: number;
}

/** One failed item of a run. */
export interface JobError {
  item: string;
  error: string;
  at: string;
}

/** A run as recorded: running, or finished with its counts and errors. */
export interface JobRun {
  id: string;
  kind: JobKind;
  options: GcOptions | RetentionOptions;
  status: "running" | "done" | "failed";
  phase: JobPhase;
  /** Work done in the current phase and, when known, its total (repositories; R2 pages have no total). */
  progress: { phase: JobPhase; done: number; total: number | null };
  started: string;
  ended: string | null;
  counts: JobCounts;
  /** The first errors (at most 50); `counts.errors` has the total. */
  errors: JobError[];
  /**
   * Storage operations the run made: Durable Object calls, R2 class A (list, put), class B (get, head), R2 deletes,
   * and the KV writes (deletes of edge keys) its repository steps queued.
   */
  ops: { doCalls: number; classA: number; classB: number; deletes: number; kvWrites: number };
}

/** One thing a run deleted (or, dry, would delete). */
export interface JobItem {
  kind: "manifest" | "tag" | "blob-link" | "blob" | "upload" | "manifest-bytes" | "data";
  /** The repository, where the item belongs to one. */
  repository: string | null;
  /** A digest, a tag, an upload id or an R2 key. */
  ref: string;
  /** Bytes freed in R2 by this item (0 for index rows: tags, links, inline manifests). */
  size: number;
}

/** The job runner as the admin API sees it (one run at a time). */
export interface LifecycleJobs {
  /** Starts a run; `running` instead when one is already under way (it is not started twice). */
  start(kind: "gc", options: GcOptions): Promise<{ run: JobRun; started: boolean }>;
  startRetention(options: RetentionOptions): Promise<{ run: JobRun; started: boolean }>;
  /** The last `n` runs, newest first. */
  runs(n: number): Promise<JobRun[]>;
  run(id: string): Promise<JobRun | null>;
  /** The items of a run in the order they were recorded, after position `after` (0 = from the start). */
  items(id: string, after: number, n: number): Promise<{ items: JobItem[]; next: number | null }>;
}

/** A retention rule: for repositories matching `repository`, the tags kept; every other tag is removed by a run. */
export interface RetentionRule {
  id: string;
  /** "*", "org/*" or a repository name (core's isRepositoryPattern). */
  repository: string;
  /** Keep the N most recently pushed tags. */
  keepLast: number | null;
  /** Keep tags matching this glob (core's isTagPattern). */
  keepTags: string | null;
  /** Keep tags pushed or pulled within this many days. */
  keepDays: number | null;
  created: string;
}
