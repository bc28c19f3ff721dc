import { and, desc, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { LedgerDb } from "./db";
import { cancellations, ledgerEntries, players, transactions } from "./schema";
import {
  KNOWN_COLUMNS,
  knownAfter,
  type IdWrite,
  type KnownTransaction,
  type LedgerWrite,
} from "./writes";

export async function findTransaction(
  db: LedgerDb,
  transactionId: string,
): Promise<KnownTransaction | undefined> {
  return db
    .select(KNOWN_COLUMNS)
    .from(transactions)
    .where(eq(transactions.transactionId, transactionId))
    .get();
}

// D1 binds at most 100 parameters per statement.
const IDS_PER_QUERY = 90;

/** What D1 knows of each of these ids (unknown ids are absent from the map). */
export async function findTransactions(
  db: LedgerDb,
  transactionIds: string[],
): Promise<Map<string, KnownTransaction>> {
  const known = new Map<string, KnownTransaction>();
  for (let start = 0; start < transactionIds.length; start += IDS_PER_QUERY) {
    const rows = await db
      .select(KNOWN_COLUMNS)
      .from(transactions)
      .where(
        inArray(transactions.transactionId, transactionIds.slice(start, start + IDS_PER_QUERY)),
      )
      .all();
    for (const row of rows) known.set(row.transactionId, row);
  }
  return known;
}

/**
 * At most `limit` transactions recorded with `batchId` that belong to a player (only those still
 * applied if `stillApplied`), the last applied first: undone in reverse, a batch that could be
 * applied can be undone whole (a Credit spent by a later Debit of the batch comes back after that
 * Debit is refunded). Ordered by the id of the ledger entry that applied each one, which never
 * ties (items written in one group commit share a timestamp); ids never applied (refused,
 * tombstones) come last.
 */
export async function transactionsOfBatch(
  db: LedgerDb,
  batchId: string,
  limit: number,
  stillApplied: boolean,
): Promise<{ transactionId: string; playerId: string }[]> {
  const inBatch = and(eq(transactions.batchId, batchId), isNotNull(transactions.playerId));
  const rows = await db
    .select({ transactionId: transactions.transactionId, playerId: transactions.playerId })
    .from(transactions)
    .leftJoin(
      ledgerEntries,
      and(
        eq(ledgerEntries.transactionId, transactions.transactionId),
        eq(ledgerEntries.effect, "apply"),
      ),
    )
    .where(stillApplied ? and(inBatch, eq(transactions.status, "applied")) : inBatch)
    .orderBy(sql`${ledgerEntries.id} DESC NULLS LAST`, transactions.transactionId)
    .limit(limit)
    .all();
  return rows.flatMap((row) =>
    row.playerId ? [{ transactionId: row.transactionId, playerId: row.playerId }] : [],
  );
}

/**
 * The ledger entry's balance_after is read back from the player row just updated, and only if it
 * is the balance the object computed: a stale cache makes it NULL, the NOT NULL constraint fails
 * and D1 rolls the whole write back (invariant 4: nothing half-applied). A status change sets the
 * balance to itself through it, so it too fails whole unless decided on the balance D1 holds.
 */
function checkedBalanceAfter(playerId: string, balanceAfterMinor: number) {
  return sql`(SELECT ${players.balanceMinor} FROM ${players} WHERE ${players.id} = ${playerId} AND ${players.balanceMinor} = ${balanceAfterMinor})`;
}

/** The balance change and its ledger entry: the two statements every applied or reversed id writes. */
function moveBalance(
  db: LedgerDb,
  write: Extract<LedgerWrite, { kind: "apply" | "reverse" }>,
  effect: "apply" | "reverse",
  metadata: string | null,
  nowMs: number,
): BatchItem<"sqlite">[] {
  return [
    db
      .update(players)
      .set({ balanceMinor: sql`${players.balanceMinor} + ${write.deltaMinor}` })
      .where(eq(players.id, write.playerId)),
    db.insert(ledgerEntries).values({
      playerId: write.playerId,
      transactionId: write.transactionId,
      effect,
      type: write.type,
      deltaMinor: write.deltaMinor,
      balanceAfterMinor: checkedBalanceAfter(write.playerId, write.balanceAfterMinor),
      currency: write.currency,
      metadata,
      createdAtMs: nowMs,
    }),
  ];
}

/** The transactions row of an id: what D1 will know of it once `write` has committed. */
function idRow(db: LedgerDb, write: IdWrite, nowMs: number): BatchItem<"sqlite"> {
  return db.insert(transactions).values({ ...knownAfter(write, undefined), createdAtMs: nowMs });
}

function statementsFor(db: LedgerDb, write: LedgerWrite, nowMs: number): BatchItem<"sqlite">[] {
  switch (write.kind) {
    case "apply":
      return [
        // The primary key refuses an id some other writer took meanwhile (another player, a tombstone).
        idRow(db, write, nowMs),
        ...moveBalance(db, write, "apply", write.metadata, nowMs),
      ];
    case "reverse":
      return [
        db.insert(cancellations).values({
          transactionId: write.transactionId,
          playerId: write.playerId,
          outcome: "reversed",
          batchId: write.batchId,
          balanceAfterMinor: write.balanceAfterMinor,
          createdAtMs: nowMs,
        }),
        db
          .update(transactions)
          .set({ status: "cancelled" })
          .where(
            and(
              eq(transactions.transactionId, write.transactionId),
              eq(transactions.status, "applied"),
            ),
          ),
        ...moveBalance(db, write, "reverse", null, nowMs),
      ];
    case "refusal":
      return [idRow(db, write, nowMs)];
    case "tombstone":
      return [
        idRow(db, write, nowMs),
        db.insert(cancellations).values({
          transactionId: write.transactionId,
          playerId: write.playerId,
          outcome: "tombstone",
          batchId: write.batchId,
          createdAtMs: nowMs,
        }),
      ];
    case "status":
      return [
        db
          .update(players)
          .set({
            status: write.status,
            balanceMinor: checkedBalanceAfter(write.playerId, write.balanceMinor),
          })
          .where(eq(players.id, write.playerId)),
      ];
  }
}

/** Persists the writes in one atomic D1 batch: all of them commit, or none. */
export async function commitWrites(
  db: LedgerDb,
  writes: LedgerWrite[],
  nowMs = Date.now(),
): Promise<void> {
  const [first, ...rest] = writes.flatMap((write) => statementsFor(db, write, nowMs));
  if (!first) return;
  await db.batch([first, ...rest]);
}

function errorText(error: unknown): string {
  return String(
    error instanceof Error && error.cause ? `${error.message} ${String(error.cause)}` : error,
  );
}

/** True if D1 refused a write for a constraint: the id was taken, or the balance was not as cached. */
export function isConstraintError(error: unknown): boolean {
  return /constraint/i.test(errorText(error));
}

/** True if the constraint was a primary key or unique index: someone else wrote this id first. */
export function isIdTakenError(error: unknown): boolean {
  return /(UNIQUE|PRIMARY KEY) constraint failed/i.test(errorText(error));
}

export type LedgerPageEntry = typeof ledgerEntries.$inferSelect;

/** A player's ledger entries, newest first, `limit` at a time, before the entry id `beforeId`. */
export async function ledgerPage(
  db: LedgerDb,
  playerId: string,
  limit: number,
  beforeId?: number,
): Promise<LedgerPageEntry[]> {
  const where =
    beforeId === undefined
      ? eq(ledgerEntries.playerId, playerId)
      : and(eq(ledgerEntries.playerId, playerId), lt(ledgerEntries.id, beforeId));
  return db
    .select()
    .from(ledgerEntries)
    .where(where)
    .orderBy(desc(ledgerEntries.id))
    .limit(limit)
    .all();
}
