import {
  and,
  desc,
  eq,
  fillPlaceholders,
  getTableColumns,
  inArray,
  lt,
  type Placeholder,
  sql,
} from "drizzle-orm";
import { type AnySQLiteColumn, SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { reachesEveryBrand, type BrandScope } from "../auth/brands";
import type { LedgerDb } from "./db";
import { archivedIdOwners, cancellations, ledgerEntries, players, transactions } from "./schema";
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

/** One transaction of a batch, as a cancel by batch_id takes it: what D1 knows of it. */
export type BatchTransaction = KnownTransaction & { playerId: string };

/**
 * The owner of each of these ids the archive moved out of `transactions` (docs/archive.md): the
 * owner's object holds what was known of it; D1 keeps only who owns it, for the id window.
 */
export async function findArchivedOwners(
  db: LedgerDb,
  transactionIds: string[],
): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (let start = 0; start < transactionIds.length; start += IDS_PER_QUERY) {
    const rows = await db
      .select({
        transactionId: archivedIdOwners.transactionId,
        playerId: archivedIdOwners.playerId,
      })
      .from(archivedIdOwners)
      .where(
        inArray(archivedIdOwners.transactionId, transactionIds.slice(start, start + IDS_PER_QUERY)),
      )
      .all();
    for (const row of rows) owners.set(row.transactionId, row.playerId);
  }
  return owners;
}

/**
 * Which of these ids a cancel reversed, by their cancellations rows: for ids whose own row the
 * archive already moved out of D1, the cancellation (written later, so archived later) may still be here.
 */
export async function findReversed(db: LedgerDb, transactionIds: string[]): Promise<Set<string>> {
  const reversed = new Set<string>();
  for (let start = 0; start < transactionIds.length; start += IDS_PER_QUERY) {
    const rows = await db
      .select({ transactionId: cancellations.transactionId })
      .from(cancellations)
      .where(
        and(
          inArray(cancellations.transactionId, transactionIds.slice(start, start + IDS_PER_QUERY)),
          eq(cancellations.outcome, "reversed"),
        ),
      )
      .all();
    for (const row of rows) reversed.add(row.transactionId);
  }
  return reversed;
}

/**
 * An item of a batch whose id row the archive moved out of D1 (docs/archive.md): D1 keeps its owner,
 * whose object holds what was known of it (PlayerWallet.archivedIdsOf).
 */
export interface ArchivedBatchItem {
  transactionId: string;
  playerId: string;
}

/** One item of a batch as D1 lists it: its id row, or only its owner if the row was archived. */
export type BatchRow =
  | { archived: false; item: BatchTransaction }
  | { archived: true; item: ArchivedBatchItem };

const knownColumns = Object.entries(KNOWN_COLUMNS);
const ownerColumns = new Map(
  Object.values(getTableColumns(archivedIdOwners)).map((column) => [column.name, column]),
);

/**
 * Every transaction recorded with `batchId` that belongs to a player, the last applied first:
 * undone in reverse, a batch that could be applied can be undone whole (a Credit spent by a later
 * Debit of the batch comes back after that Debit is refunded). Ordered by the id of the ledger
 * entry that applied each one, which never ties (items written in one group commit share a
 * timestamp); ids never applied (refused, tombstones) come last. One row per item, however many
 * requests grew the batch: a batch_id is bounded by what ThrillGate sends under it.
 *
 * Items whose id rows the archive moved out of D1 are listed too, from `archived_id_owners`, which
 * kept their batch_id and applying entry's id: one statement over both tables, so the order is the
 * one it was before archival, and an item moving across the boundary meanwhile is listed once.
 */
export async function transactionsOfBatch(
  db: LedgerDb,
  batchId: string,
  scope: BrandScope,
): Promise<BatchRow[]> {
  const live = sql.join(
    knownColumns.map(([, column]) => sql`${column}`),
    sql`, `,
  );
  // The same result columns, in the same order: what D1 kept of an archived id, NULL for the rest.
  const archived = sql.join(
    knownColumns.map(([, column]) => {
      const kept = ownerColumns.get(column.name);
      return kept ? sql`${kept}` : sql`NULL`;
    }),
    sql`, `,
  );
  const rows = await db.all<Record<string, unknown>>(sql`
    SELECT ${live}, ${ledgerEntries.id} AS applied_entry_id, 0 AS archived
    FROM ${transactions} LEFT JOIN ${ledgerEntries}
      ON ${ledgerEntries.transactionId} = ${transactions.transactionId}
      AND ${ledgerEntries.effect} = 'apply'
    WHERE ${transactions.batchId} = ${batchId} AND ${transactions.playerId} IS NOT NULL
      AND ${ofPlayersIn(transactions.playerId, scope)}
    UNION ALL
    SELECT ${archived}, ${archivedIdOwners.appliedEntryId}, 1
    FROM ${archivedIdOwners}
    WHERE ${archivedIdOwners.batchId} = ${batchId}
      AND ${ofPlayersIn(archivedIdOwners.playerId, scope)}
    ORDER BY applied_entry_id DESC NULLS LAST, ${sql.identifier(transactions.transactionId.name)}`);
  return rows.flatMap((row): BatchRow[] => {
    const playerId = row[transactions.playerId.name];
    const transactionId = row[transactions.transactionId.name];
    if (typeof playerId !== "string" || typeof transactionId !== "string") return [];
    if (row.archived === 1) return [{ archived: true, item: { transactionId, playerId } }];
    // The row's columns under their SQL names, as drizzle would have mapped them.
    const known = Object.fromEntries(
      knownColumns.map(([key, column]) => [key, row[column.name] ?? null]),
    ) as KnownTransaction;
    return [{ archived: false, item: { ...known, playerId } }];
  });
}

/** Rows of players a key of `scope` may reach (always true without brand keys). */
function ofPlayersIn(playerId: AnySQLiteColumn, scope: BrandScope) {
  if (reachesEveryBrand(scope)) return sql`1`;
  const brands =
    scope.brand === null
      ? sql`${players.brandId} NOT IN (${sql.join(
          scope.listed.map((brand) => sql`${brand}`),
          sql`, `,
        )})`
      : sql`${players.brandId} = ${scope.brand}`;
  return sql`${playerId} IN (SELECT ${players.id} FROM ${players} WHERE ${brands})`;
}

const $ = sql.placeholder;

/**
 * The id row `transactionId` is a tombstone that blocks no original of `brandId`'s players: the
 * negation of tombstoneBlocks (writes.ts), read by D1 at the moment of the write. Exported for the
 * test that holds the two to the same cases (test/tombstones.test.ts).
 */
export const tombstoneGivesWay = sql`EXISTS (SELECT 1 FROM ${transactions} WHERE ${transactions.transactionId} = ${$("transactionId")} AND ${transactions.status} = 'tombstone' AND ${transactions.everyBrand} = 0 AND ((${transactions.brandId} IS NOT NULL AND ${transactions.brandId} <> ${$("brandId")}) OR (${transactions.brandId} IS NULL AND ${transactions.listedBrands} IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(${transactions.listedBrands}) AS listed WHERE listed.value = ${$("brandId")}))))`;

/**
 * Fails on the primary key unless the id row is still a tombstone: put before a widen, so that a
 * widen of a tombstone an original replaced since it was read rolls back whole, and its caller
 * reads the id again (and finds the original to reverse) instead of answering a cancel done.
 */
const stillTombstone = new SQLiteSyncDialect().sqlToQuery(
  sql`INSERT INTO ${transactions} (${sql.identifier(transactions.transactionId.name)}, ${sql.identifier(transactions.status.name)}, ${sql.identifier(transactions.everyBrand.name)}, ${sql.identifier(transactions.createdAtMs.name)}) SELECT ${$("transactionId")}, 'tombstone', 1, 0 WHERE NOT EXISTS (SELECT 1 FROM ${transactions} WHERE ${transactions.transactionId} = ${$("transactionId")} AND ${transactions.status} = 'tombstone')`,
);

/**
 * The ledger entry's balance_after is read back from the player row just updated, and only if it
 * is the balance the object computed: a stale cache makes it NULL, the NOT NULL constraint fails
 * and D1 rolls the whole write back (invariant 4: nothing half-applied). A status change sets the
 * balance to itself through it, so it too fails whole unless decided on the balance D1 holds.
 */
const checkedBalanceAfter = sql`(SELECT ${players.balanceMinor} FROM ${players} WHERE ${players.id} = ${$("playerId")} AND ${players.balanceMinor} = ${$("balanceAfterMinor")})`;

/**
 * Every statement a write makes, with a named placeholder for each value. Drizzle builds their SQL
 * once per isolate; a write only binds its values. Building it per write was the largest cost of
 * our own code on the write path (bench/README.md, "Where the CPU of one call goes").
 */
function writeStatements(db: LedgerDb) {
  return {
    // The primary key refuses an id some other writer took meanwhile (another player, a tombstone).
    // Every column of the table, so a new one is written as soon as knownAfter() sets it.
    idRow: db
      .insert(transactions)
      .values(
        // A placeholder per column: drizzle types values() by column, not by placeholder.
        Object.fromEntries(
          Object.keys(getTableColumns(transactions)).map((key) => [key, $(key)]),
        ) as Record<keyof typeof transactions.$inferInsert, Placeholder>,
      )
      .toSQL(),
    addToBalance: db
      .update(players)
      .set({ balanceMinor: sql`${players.balanceMinor} + ${$("deltaMinor")}` })
      .where(eq(players.id, $("playerId")))
      .toSQL(),
    ledgerEntry: db
      .insert(ledgerEntries)
      .values({
        playerId: $("playerId"),
        transactionId: $("transactionId"),
        effect: $("effect"),
        type: $("type"),
        deltaMinor: $("deltaMinor"),
        balanceAfterMinor: checkedBalanceAfter,
        currency: $("currency"),
        metadata: $("metadata"),
        createdAtMs: $("createdAtMs"),
      })
      .toSQL(),
    cancellation: db
      .insert(cancellations)
      .values({
        transactionId: $("transactionId"),
        playerId: $("playerId"),
        outcome: $("outcome"),
        batchId: $("batchId"),
        balanceAfterMinor: $("balanceAfterMinor"),
        createdAtMs: $("createdAtMs"),
      })
      .toSQL(),
    markCancelled: db
      .update(transactions)
      .set({ status: "cancelled" })
      .where(
        and(eq(transactions.transactionId, $("transactionId")), eq(transactions.status, "applied")),
      )
      .toSQL(),
    // A tombstone another brand's original replaces (wallet/player-wallet.ts): its cancellation
    // row first, while the id row still says whose tombstone it is, then the id row. If the id row
    // no longer gives way to that brand, both delete nothing and the insert after them fails on
    // the key.
    dropTombstoneCancellation: db
      .delete(cancellations)
      .where(
        and(
          eq(cancellations.transactionId, $("transactionId")),
          eq(cancellations.outcome, "tombstone"),
          tombstoneGivesWay,
        ),
      )
      .toSQL(),
    dropTombstone: db
      .delete(transactions)
      .where(and(eq(transactions.transactionId, $("transactionId")), tombstoneGivesWay))
      .toSQL(),
    stillTombstone,
    // A second brand's cancel of a tombstone: from now on it blocks every brand's original.
    widenTombstone: db
      .update(transactions)
      .set({ everyBrand: 1 })
      .where(
        and(
          eq(transactions.transactionId, $("transactionId")),
          eq(transactions.status, "tombstone"),
        ),
      )
      .toSQL(),
    setStatus: db
      .update(players)
      .set({ status: sql`${$("status")}`, balanceMinor: checkedBalanceAfter })
      .where(eq(players.id, $("playerId")))
      .toSQL(),
  };
}

type WriteStatements = ReturnType<typeof writeStatements>;
type Statement = keyof WriteStatements;

// The SQL text does not depend on the binding: one build serves every object of the isolate.
let statements: WriteStatements | undefined;

/** One statement to run: which one, and the value of each of its placeholders. */
type Bound = [Statement, Record<string, unknown>];

/** The balance change and its ledger entry: the two statements every applied or reversed id writes. */
function moveBalance(
  write: Extract<LedgerWrite, { kind: "apply" | "reverse" }>,
  effect: "apply" | "reverse",
  metadata: string | null,
  createdAtMs: number,
): Bound[] {
  const { transactionId, playerId, type, deltaMinor, currency, balanceAfterMinor } = write;
  return [
    ["addToBalance", { playerId, deltaMinor }],
    [
      "ledgerEntry",
      {
        playerId,
        transactionId,
        effect,
        type,
        deltaMinor,
        balanceAfterMinor,
        currency,
        metadata,
        createdAtMs,
      },
    ],
  ];
}

/** The transactions row of an id: what D1 will know of it once `write` has committed. */
function idRow(write: IdWrite, createdAtMs: number): Bound {
  return ["idRow", { ...knownAfter(write, undefined), createdAtMs }];
}

function statementsFor(write: LedgerWrite, createdAtMs: number): Bound[] {
  if (write.kind !== "status" && write.kind !== "reverse" && write.replacesTombstone) {
    const { transactionId } = write;
    const brandId = write.replacesTombstone.forBrandId;
    return [
      ["dropTombstoneCancellation", { transactionId, brandId }],
      ["dropTombstone", { transactionId, brandId }],
      ...statementsFor({ ...write, replacesTombstone: undefined }, createdAtMs),
    ];
  }
  switch (write.kind) {
    case "apply":
      return [
        idRow(write, createdAtMs),
        ...moveBalance(write, "apply", write.metadata, createdAtMs),
      ];
    case "reverse": {
      const { transactionId, playerId, batchId, balanceAfterMinor } = write;
      return [
        [
          "cancellation",
          { transactionId, playerId, outcome: "reversed", batchId, balanceAfterMinor, createdAtMs },
        ],
        ["markCancelled", { transactionId }],
        ...moveBalance(write, "reverse", null, createdAtMs),
      ];
    }
    case "refusal":
      return [idRow(write, createdAtMs)];
    case "tombstone": {
      if (write.widens) {
        const { transactionId } = write;
        return [
          ["stillTombstone", { transactionId }],
          ["widenTombstone", { transactionId }],
        ];
      }
      const { transactionId, playerId, batchId } = write;
      return [
        idRow(write, createdAtMs),
        [
          "cancellation",
          {
            transactionId,
            playerId,
            outcome: "tombstone",
            batchId,
            balanceAfterMinor: null,
            createdAtMs,
          },
        ],
      ];
    }
    case "status":
      return [
        [
          "setStatus",
          { playerId: write.playerId, status: write.status, balanceAfterMinor: write.balanceMinor },
        ],
      ];
  }
}

/** Persists the writes in one atomic D1 batch: all of them commit, or none. */
export async function commitWrites(
  db: LedgerDb,
  writes: LedgerWrite[],
  nowMs = Date.now(),
): Promise<void> {
  const bound = writes.flatMap((write) => statementsFor(write, nowMs));
  if (bound.length === 0) return;
  statements ??= writeStatements(db);
  const built = statements;
  const d1 = db.$client;
  // fillPlaceholders throws for a placeholder without a value, so nothing is bound by mistake.
  await d1.batch(
    bound.map(([name, values]) =>
      d1.prepare(built[name].sql).bind(...fillPlaceholders(built[name].params, values)),
    ),
  );
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
