import { desc } from "drizzle-orm";
import type { LedgerDb } from "./db";
import type { BalanceMismatch, ReconcileReport, TransactionProblem } from "./reconcile";
import { reconcileRuns } from "./schema";

// The record of each reconciliation run (table reconcile_runs): what it found, when, and how long
// it took, so the last result can be shown without running the check again.

export type RunTrigger = "cron" | "manual";

export interface ReconcileRun {
  id: number;
  trigger: RunTrigger;
  startedAtMs: number;
  durationMs: number;
  /** Balance mismatches plus transaction problems, as listed (the report lists at most 100 of each). */
  disagreements: number;
  report: ReconcileReport;
}

/** What `details` holds: the parts of the report that have no column of their own. */
interface RunDetails {
  transfersChecked: number;
  balanceMismatches: BalanceMismatch[];
  transactionProblems: TransactionProblem[];
}

export function disagreementsOf(report: ReconcileReport): number {
  return report.balanceMismatches.length + report.transactionProblems.length;
}

/** Appends one run; answers it with the id it was given. */
export async function recordRun(
  db: LedgerDb,
  run: Omit<ReconcileRun, "id" | "disagreements">,
): Promise<ReconcileRun> {
  const { report } = run;
  const details: RunDetails = {
    transfersChecked: report.transfersChecked,
    balanceMismatches: report.balanceMismatches,
    transactionProblems: report.transactionProblems,
  };
  const disagreements = disagreementsOf(report);
  const row = await db
    .insert(reconcileRuns)
    .values({
      trigger: run.trigger,
      startedAtMs: run.startedAtMs,
      durationMs: run.durationMs,
      playersChecked: report.playersChecked,
      transactionsChecked: report.transactionsChecked,
      disagreements,
      details: JSON.stringify(details),
    })
    .returning({ id: reconcileRuns.id })
    .get();
  return { ...run, id: row.id, disagreements };
}

/** The run that started last (the highest id among equal start times), or null if none ran. */
export async function lastRun(db: LedgerDb): Promise<ReconcileRun | null> {
  const row = await db
    .select()
    .from(reconcileRuns)
    .orderBy(desc(reconcileRuns.startedAtMs), desc(reconcileRuns.id))
    .limit(1)
    .get();
  if (!row) return null;
  const details: RunDetails = JSON.parse(row.details ?? "null") ?? {
    transfersChecked: 0,
    balanceMismatches: [],
    transactionProblems: [],
  };
  return {
    id: row.id,
    trigger: row.trigger,
    startedAtMs: row.startedAtMs,
    durationMs: row.durationMs,
    disagreements: row.disagreements,
    report: {
      ok: row.disagreements === 0,
      playersChecked: row.playersChecked,
      transactionsChecked: row.transactionsChecked,
      transfersChecked: details.transfersChecked,
      balanceMismatches: details.balanceMismatches,
      transactionProblems: details.transactionProblems,
    },
  };
}
