import { asc, eq, sql } from "drizzle-orm";
import type { LedgerDb } from "./db";
import { cancellations, ledgerEntries, players, transactions } from "./schema";
import type { LedgerPageEntry } from "./transactions";

// "What happened to transaction X?": everything D1 holds about one id, for support. Keyed by the
// transaction id only, like the owner lookup of a cancel, so it survives a later sharding by player.

export interface TransactionHistory {
  transaction: typeof transactions.$inferSelect;
  /** The owner's currency: amounts and balances are minor units of it. Null for an unowned tombstone. */
  playerCurrency: string | null;
  /** The cancel that reversed the id, or that arrived first and left a tombstone. */
  cancellation: typeof cancellations.$inferSelect | undefined;
  /** Oldest first: the entry that applied the id, then the one that reversed it. */
  entries: LedgerPageEntry[];
}

/** What D1 knows of `transactionId`, or undefined if it has never seen it. One round trip. */
export async function transactionHistory(
  db: LedgerDb,
  transactionId: string,
): Promise<TransactionHistory | undefined> {
  const [found, cancelled, entries] = await db.batch([
    db
      // Aliased: in a D1 batch drizzle maps rows by column name, and players.currency would
      // overwrite transactions.currency and shift every column after it.
      .select({
        transaction: transactions,
        playerCurrency: sql<string | null>`${players.currency}`.as("player_currency"),
      })
      .from(transactions)
      .leftJoin(players, eq(players.id, transactions.playerId))
      .where(eq(transactions.transactionId, transactionId)),
    db.select().from(cancellations).where(eq(cancellations.transactionId, transactionId)),
    db
      .select()
      .from(ledgerEntries)
      .where(eq(ledgerEntries.transactionId, transactionId))
      .orderBy(asc(ledgerEntries.id)),
  ]);
  const row = found[0];
  if (!row) return undefined;
  return {
    transaction: row.transaction,
    playerCurrency: row.playerCurrency,
    cancellation: cancelled[0],
    entries,
  };
}
