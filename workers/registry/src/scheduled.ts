import type { LifecycleJobs, PolicyStore } from "@registry/storage";

/** The vars that schedule lifecycle runs (wrangler.toml [vars]). */
export interface LifecycleSchedule {
  RETENTION_CRON?: string;
  GC_CRON?: string;
  GC_DELETE_UNTAGGED?: string;
  GC_GRACE?: string;
  GC_UPLOAD_GRACE?: string;
}

const seconds = (value: string | undefined, fallback: number) => (value && Number.isFinite(Number(value)) ? Number(value) : fallback);

/**
 * A scheduled lifecycle run (a Cron Trigger whose expression is RETENTION_CRON or GC_CRON): a retention run when
 * retention rules exist, or a garbage collection with the configured grace periods. When a run is already under
 * way nothing new starts (it is logged); the run itself proceeds on the runner's alarms.
 */
export async function scheduledLifecycle(cron: string, vars: LifecycleSchedule, jobs: LifecycleJobs, policy: PolicyStore): Promise<void> {
  if (cron === vars.RETENTION_CRON) {
    if ((await policy.retentionRules()).length === 0) return;
    const { run, started } = await jobs.startRetention({ dryRun: false });
    console.log(JSON.stringify({ event: "retention-scheduled", run: run.id, started }));
    return;
  }
  const { run, started } = await jobs.start("gc", {
    dryRun: false,
    deleteUntagged: vars.GC_DELETE_UNTAGGED === "on",
    graceSeconds: seconds(vars.GC_GRACE, 3600),
    uploadGraceSeconds: seconds(vars.GC_UPLOAD_GRACE, 86400),
  });
  console.log(JSON.stringify({ event: "gc-scheduled", run: run.id, started }));
}
