import { runArchive, runArchiveIfPending } from "./archive";
import { runReconciliation } from "./reconcile";

// What each Cron Trigger of wrangler.toml runs, in order. Each job stands alone: one that throws is
// logged and the next still runs.

export interface NightlyJob {
  name: string;
  run: (env: Env, scheduledTimeMs: number) => Promise<unknown>;
}

/** 00:15 UTC, once the UTC day has closed. */
export const NIGHTLY_CRON = "15 0 * * *";
/** Every hour at :45, clear of the nightly run's archive (00:15, at most 10 minutes). */
export const HOURLY_CRON = "45 * * * *";

// The archive first (docs/archive.md), as of the event's scheduled time: the reconciliation that
// follows then checks balances against the archived totals the run just moved.
export const NIGHTLY_JOBS: readonly NightlyJob[] = [
  { name: "archive", run: (env, scheduledTimeMs) => runArchive(env, scheduledTimeMs, "cron") },
  { name: "reconcile", run: (env) => runReconciliation(env, "cron") },
];

// The archive alone, so that a backlog larger than one run's time budget is worked off within the
// day (docs/capacity.md "The steady state"); an hour with nothing to archive does one small read.
export const HOURLY_JOBS: readonly NightlyJob[] = [
  { name: "archive", run: (env, scheduledTimeMs) => runArchiveIfPending(env, scheduledTimeMs) },
];

/** Each cron of wrangler.toml `[triggers] crons`, exactly as written there, and its jobs. */
export const CRON_JOBS: ReadonlyMap<string, readonly NightlyJob[]> = new Map([
  [NIGHTLY_CRON, NIGHTLY_JOBS],
  [HOURLY_CRON, HOURLY_JOBS],
]);

/**
 * Runs the jobs of `cron`; answers the names of those that failed (each also logged). A cron not
 * in the table (wrangler.toml and this file disagree) runs nothing and logs an error line.
 */
export async function runCron(env: Env, cron: string, scheduledTimeMs: number): Promise<string[]> {
  const jobs = CRON_JOBS.get(cron);
  if (jobs) return runNightly(env, scheduledTimeMs, jobs);
  console.error(
    JSON.stringify({
      event: "unknown_cron",
      cron,
      scheduled_at: new Date(scheduledTimeMs).toISOString(),
    }),
  );
  return [];
}

/** Runs every job in turn; answers the names of those that failed (each also logged). */
export async function runNightly(
  env: Env,
  scheduledTimeMs: number,
  jobs: readonly NightlyJob[] = NIGHTLY_JOBS,
): Promise<string[]> {
  const failed: string[] = [];
  for (const job of jobs) {
    try {
      await job.run(env, scheduledTimeMs);
    } catch (error) {
      failed.push(job.name);
      console.error(
        JSON.stringify({
          event: "nightly_job_failed",
          job: job.name,
          scheduled_at: new Date(scheduledTimeMs).toISOString(),
          error: String(error),
        }),
      );
    }
  }
  return failed;
}
