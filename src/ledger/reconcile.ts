import type { LedgerDb } from "./db";
import { sql } from "drizzle-orm";
import { TRANSFER_TYPES } from "./schema";

// Invariant 5, checked for all players at once: the one query that needs every player (and so,
// after sharding, runs once per shard).

export interface BalanceMismatch {
  playerId: string;
  balanceMinor: number;
  expectedMinor: number;
}

export interface TransactionProblem {
  transactionId: string;
  status: string | null;
  applies: number;
  reverses: number;
}

export interface ReconcileReport {
  ok: boolean;
  playersChecked: number;
  transactionsChecked: number;
  /** Of the transactions checked, the operator's transfers. */
  transfersChecked: number;
  balanceMismatches: BalanceMismatch[];
  transactionProblems: TransactionProblem[];
}

/** The most rows of each kind a report lists; counts above it still make `ok` false. */
const REPORT_ROWS = 100;

export async function reconcile(db: LedgerDb): Promise<ReconcileReport> {
  // balance = opening balance + the deltas the archive holds (archived_totals, updated in the same
  // batch as each delete from the ledger, docs/archive.md) + the sum of the live ledger's deltas.
  const balanceMismatches = await db.all<BalanceMismatch>(sql`
    SELECT p.id AS playerId, p.balance_minor AS balanceMinor,
           p.opening_balance_minor + COALESCE(MAX(a.delta_minor), 0) + COALESCE(SUM(l.delta_minor), 0)
             AS expectedMinor
    FROM players p
    LEFT JOIN archived_totals a ON a.player_id = p.id
    LEFT JOIN ledger_entries l ON l.player_id = p.id
    GROUP BY p.id
    HAVING p.balance_minor != expectedMinor
    LIMIT ${REPORT_ROWS}`);

  // Every applied id has exactly one applying entry, a cancelled one also exactly one reversing
  // entry, a tombstone or a refused id none; every entry is of its id's type and player; an
  // operator transfer is never reversed; and no ledger entry names an id the transactions table
  // lacks.
  const transfers = sql.join(
    TRANSFER_TYPES.map((type) => sql`${type}`),
    sql`, `,
  );
  const transactionProblems = await db.all<TransactionProblem>(sql`
    SELECT ids.transaction_id AS transactionId, t.status AS status,
           COUNT(CASE WHEN l.effect = 'apply' THEN 1 END) AS applies,
           COUNT(CASE WHEN l.effect = 'reverse' THEN 1 END) AS reverses,
           COUNT(CASE WHEN l.id IS NOT NULL AND t.transaction_id IS NOT NULL
                        AND (l.type IS NOT t.type OR l.player_id IS NOT t.player_id)
                      THEN 1 END) AS strays,
           COUNT(CASE WHEN l.effect = 'reverse' AND c.outcome = 'reversed' AND l.player_id IS c.player_id
                      THEN 1 END) AS archivedReversals
    FROM (SELECT transaction_id FROM transactions UNION SELECT transaction_id FROM ledger_entries) ids
    LEFT JOIN transactions t ON t.transaction_id = ids.transaction_id
    LEFT JOIN ledger_entries l ON l.transaction_id = ids.transaction_id
    LEFT JOIN cancellations c ON c.transaction_id = ids.transaction_id AND t.transaction_id IS NULL
    GROUP BY ids.transaction_id
    HAVING strays > 0 OR NOT (
         (t.status = 'applied' AND applies = 1 AND reverses = 0)
      OR (t.transaction_id IS NULL AND applies = 0 AND reverses = 1 AND archivedReversals = 1)
      OR (t.status = 'cancelled' AND t.type NOT IN (${transfers}) AND applies = 1 AND reverses = 1)
      OR (t.status IN ('tombstone', 'refused') AND applies = 0 AND reverses = 0))
    LIMIT ${REPORT_ROWS}`);

  const counts = await db.get<{ players: number; transactions: number; transfers: number }>(sql`
    SELECT (SELECT COUNT(*) FROM players) AS players,
           (SELECT COUNT(*) FROM transactions) AS transactions,
           (SELECT COUNT(*) FROM transactions WHERE type IN (${transfers})) AS transfers`);

  return {
    ok: balanceMismatches.length === 0 && transactionProblems.length === 0,
    playersChecked: counts?.players ?? 0,
    transactionsChecked: counts?.transactions ?? 0,
    transfersChecked: counts?.transfers ?? 0,
    balanceMismatches,
    transactionProblems,
  };
}
