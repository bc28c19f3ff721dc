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
  /** Set when the id's row was read from the archive: the UTC day (days since 1970-01-01) holding it. */
  archivedDay?: number;
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

/** The player's currency, or null for an unknown player. */
export async function playerCurrencyOf(db: LedgerDb, playerId: string): Promise<string | null> {
  const row = await db
    .select({ currency: players.currency })
    .from(players)
    .where(eq(players.id, playerId))
    .get();
  return row?.currency ?? null;
}

/**
 * What D1 still holds of an id whose own row the archive moved out (docs/archive.md): a cancel of it
 * and its ledger entries, if their day is still live. One round trip.
 */
export async function transactionHistoryParts(
  db: LedgerDb,
  transactionId: string,
): Promise<Pick<TransactionHistory, "cancellation" | "entries"> & { playerCurrency: null }> {
  const [cancelled, entries] = await db.batch([
    db.select().from(cancellations).where(eq(cancellations.transactionId, transactionId)),
    db
      .select()
      .from(ledgerEntries)
      .where(eq(ledgerEntries.transactionId, transactionId))
      .orderBy(asc(ledgerEntries.id)),
  ]);
  return { cancellation: cancelled[0], entries, playerCurrency: null };
}
