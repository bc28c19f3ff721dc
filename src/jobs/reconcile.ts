import { ledgerDb } from "../ledger/db";
import { reconcile } from "../ledger/reconcile";
import {
  disagreementsOf,
  recordRun,
  type ReconcileRun,
  type RunTrigger,
} from "../ledger/reconcile-runs";
import type { ReconcileReport } from "../ledger/reconcile";

// One recorded reconciliation run: the nightly Cron Trigger's, or one an operator started with
// POST /admin/reconcile/run. Invariant 5 checked for every player, the result kept in
// reconcile_runs, and a disagreement said in ONE error-level log line an alert can watch for.

/** The event name of the alert line (docs/operations.md, "Alerting on a disagreement"). */
export const DISAGREEMENT_EVENT = "reconcile_failed";

/** What disagrees, as the alert line and the admin API say it (minor units, the API's names). */
export function disagreementsBody(report: ReconcileReport) {
  return {
    balance_mismatches: report.balanceMismatches.map((m) => ({
      player_id: m.playerId,
      balance_minor: m.balanceMinor,
      expected_minor: m.expectedMinor,
    })),
    transaction_problems: report.transactionProblems.map((p) => ({
      transaction_id: p.transactionId,
      status: p.status,
      applying_entries: p.applies,
      reversing_entries: p.reverses,
    })),
  };
}

/**
 * The alert line: which players' balances disagree with their ledger (balance against opening +
 * entries, in minor units) and which transaction ids have other entries than their status says.
 */
export function logDisagreement(
  report: ReconcileReport,
  trigger: RunTrigger,
  startedAtMs: number,
): void {
  if (report.ok) return;
  console.error(
    JSON.stringify({
      event: DISAGREEMENT_EVENT,
      trigger,
      started_at: new Date(startedAtMs).toISOString(),
      players_checked: report.playersChecked,
      transactions_checked: report.transactionsChecked,
      disagreements: disagreementsOf(report),
      ...disagreementsBody(report),
    }),
  );
}

export async function runReconciliation(env: Env, trigger: RunTrigger): Promise<ReconcileRun> {
  const db = ledgerDb(env.DB);
  const startedAtMs = Date.now();
  const report = await reconcile(db);
  const durationMs = Date.now() - startedAtMs;
  // Logged before it is recorded: a D1 that fails the insert must not also swallow the alert.
  logDisagreement(report, trigger, startedAtMs);
  return recordRun(db, { trigger, startedAtMs, durationMs, report });
}
