import { runArchive } from "./archive";
import { runReconciliation } from "./reconcile";

// What the Cron Trigger of wrangler.toml (`15 0 * * *`: 00:15 UTC, once the UTC day has closed)
// runs, in this order. Each job stands alone: one that throws is logged and the next still runs.

export interface NightlyJob {
  name: string;
  run: (env: Env, scheduledTimeMs: number) => Promise<unknown>;
}

// The archive first (docs/archive.md), as of the event's scheduled time: the reconciliation that
// follows then checks balances against the archived totals the run just moved.
export const NIGHTLY_JOBS: readonly NightlyJob[] = [
  { name: "archive", run: (env, scheduledTimeMs) => runArchive(env, scheduledTimeMs, "cron") },
  { name: "reconcile", run: (env) => runReconciliation(env, "cron") },
];

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
