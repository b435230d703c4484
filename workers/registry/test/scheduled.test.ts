import type { GcOptions, JobRun, LifecycleJobs, PolicyStore, RetentionOptions, RetentionRule } from "@registry/storage";
import { describe, expect, test } from "vitest";
import { scheduledLifecycle } from "../src/scheduled";

/** The Cron Triggers of lifecycle runs: which run each schedule starts, with which options. */
function fakes(rules: RetentionRule[] = []) {
  const started: { kind: string; options: GcOptions | RetentionOptions }[] = [];
  const run = { id: "r1" } as JobRun;
  const jobs = {
    start: async (kind: "gc", options: GcOptions) => {
      started.push({ kind, options });
      return { run, started: true };
    },
    startRetention: async (options: RetentionOptions) => {
      started.push({ kind: "retention", options });
      return { run, started: true };
    },
  } as unknown as LifecycleJobs;
  const policy = { retentionRules: async () => rules } as unknown as PolicyStore;
  return { started, jobs, policy };
}

const vars = { RETENTION_CRON: "0 3 * * *", GC_CRON: "30 3 * * *", GC_DELETE_UNTAGGED: "on", GC_GRACE: "7200", GC_UPLOAD_GRACE: "" };

describe("scheduled lifecycle runs", () => {
  test("GC_CRON starts a garbage collection with the configured options", async () => {
    const { started, jobs, policy } = fakes();
    await scheduledLifecycle("30 3 * * *", vars, jobs, policy);
    expect(started).toEqual([{ kind: "gc", options: { dryRun: false, deleteUntagged: true, graceSeconds: 7200, uploadGraceSeconds: 86400 } }]);
  });

  test("RETENTION_CRON starts a retention run only when there are rules", async () => {
    const none = fakes();
    await scheduledLifecycle("0 3 * * *", vars, none.jobs, none.policy);
    expect(none.started).toEqual([]);
    const rule: RetentionRule = { id: "x", repository: "*", keepLast: 3, keepTags: null, keepDays: null, created: "" };
    const some = fakes([rule]);
    await scheduledLifecycle("0 3 * * *", vars, some.jobs, some.policy);
    expect(some.started).toEqual([{ kind: "retention", options: { dryRun: false } }]);
  });
});
