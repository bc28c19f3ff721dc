import { and, asc, eq, isNotNull, lt, ne, sql } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import type { CancellationRow, IdRow } from "./archive-format";
import type { LedgerDb } from "./db";
import { type DailyTotals, MS_PER_DAY } from "./report";
import {
  archiveDays,
  archivedReportRows,
  archivedTotals,
  archiveRuns,
  cancellations,
  transactions,
  type ArchiveDayStatus,
} from "./schema";

// The archive job's queries on D1 (docs/archive.md): which day is next, a closed day's id rows and
// cancellations page by page, the day's status, the lease, and the batches that delete a day's rows
// while adding them to the players' archived totals.

/**
 * Rows per table in one delete batch (plus the rows that share the cut's millisecond). D1 runs one
 * writer per database, and every wallet write waits behind a running batch: about 600 rows and
 * their index entries are tens of milliseconds of that writer at the rates measured in
 * docs/capacity.md (4,000–12,000 rows a second), so a delete never holds it for longer than a
 * group commit does.
 */
export const DELETE_BATCH_ROWS = 200;

/** Id rows or cancellations read per D1 query while the job writes or copies a day. */
const DAY_PAGE_ROWS = 500;

/** The first millisecond of `day` and of the day after it. */
export function dayRange(day: number): { fromMs: number; toMs: number } {
  return { fromMs: day * MS_PER_DAY, toMs: (day + 1) * MS_PER_DAY };
}

export type ArchiveDayRow = typeof archiveDays.$inferSelect;

/**
 * The day the job works on next, if any is before `beforeDay`: a day it started and did not finish
 * (at most one, since days are taken oldest first and a day is finished before the next starts),
 * else the oldest day that still has rows D1 may archive. Id rows and cancellations of no player
 * (a cancel without player_id of an id never seen) are never archived: they stay in D1, because
 * only D1 can refuse their late original (docs/archive.md).
 */
export async function nextArchiveDay(
  db: LedgerDb,
  beforeDay: number,
): Promise<ArchiveDayRow | { day: number; status: undefined } | undefined> {
  const started = await db
    .select()
    .from(archiveDays)
    .where(ne(archiveDays.status, "archived"))
    .orderBy(asc(archiveDays.day))
    .limit(1)
    .get();
  if (started) return started.day < beforeDay ? started : undefined;
  const oldest = await db.get<{ oldestMs: number | null }>(sql`
    SELECT MIN(m) AS oldestMs FROM (
      SELECT MIN(created_at_ms) AS m FROM ledger_entries
      UNION ALL SELECT MIN(created_at_ms) FROM transactions WHERE player_id IS NOT NULL
      UNION ALL SELECT MIN(created_at_ms) FROM cancellations WHERE player_id IS NOT NULL)`);
  if (oldest?.oldestMs === null || oldest?.oldestMs === undefined) return undefined;
  const day = Math.floor(oldest.oldestMs / MS_PER_DAY);
  return day < beforeDay ? { day, status: undefined } : undefined;
}

/**
 * Has the job anything to do: a day before `beforeDay` started and unfinished, a row it may archive
 * from before that day, or an archived id owner from before `ownersBeforeDay`? One query, each
 * part a probe of an index, so an hourly run with nothing to do costs one small read. It may say
 * yes where nextArchiveDay then finds nothing (a later day left unfinished): never the reverse.
 */
export async function archiveWorkPending(
  db: LedgerDb,
  beforeDay: number,
  ownersBeforeDay: number,
): Promise<boolean> {
  const beforeMs = dayRange(beforeDay).fromMs;
  const row = await db.get<{ pending: number }>(sql`
    SELECT (
      EXISTS (SELECT 1 FROM archive_days WHERE status != 'archived' AND day < ${beforeDay})
      OR EXISTS (SELECT 1 FROM ledger_entries WHERE created_at_ms < ${beforeMs})
      OR EXISTS (SELECT 1 FROM transactions WHERE created_at_ms < ${beforeMs} AND player_id IS NOT NULL)
      OR EXISTS (SELECT 1 FROM cancellations WHERE created_at_ms < ${beforeMs} AND player_id IS NOT NULL)
      OR EXISTS (SELECT 1 FROM archived_id_owners WHERE day < ${ownersBeforeDay})
    ) AS pending`);
  return row?.pending === 1;
}

/** The columns a day's keyset pages are read by: the time, the id, and the owner. */
interface DayKeyColumns {
  playerId: AnySQLiteColumn;
  createdAtMs: AnySQLiteColumn;
  transactionId: AnySQLiteColumn;
}

type DayKey = { ms: number; id: string };

/** Rows with a player, after `after` in (created_at_ms, transaction_id) order, before `toMs`. */
function dayPageWhere(t: DayKeyColumns, after: DayKey, toMs: number) {
  return and(
    isNotNull(t.playerId),
    sql`(${t.createdAtMs}, ${t.transactionId}) > (${after.ms}, ${after.id})`,
    lt(t.createdAtMs, toMs),
  );
}

/**
 * A day's rows, a page at a time, in (created_at_ms, transaction_id) order: each page starts after
 * the last row read (keyset), so rows sharing a millisecond are neither skipped nor repeated.
 */
async function* dayPages<Row extends { createdAtMs: number; transactionId: string }>(
  day: number,
  pageRows: number,
  readPage: (after: DayKey, toMs: number) => Promise<Row[]>,
): AsyncGenerator<Row[]> {
  const { fromMs, toMs } = dayRange(day);
  let after: DayKey = { ms: fromMs, id: "" };
  for (;;) {
    const page = await readPage(after, toMs);
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (!last || page.length < pageRows) return;
    after = { ms: last.createdAtMs, id: last.transactionId };
  }
}

/** A day's id rows that have a player, in (created_at_ms, transaction_id) order, a page at a time. */
export function dayIdRows(
  db: LedgerDb,
  day: number,
  pageRows = DAY_PAGE_ROWS,
): AsyncGenerator<IdRow[]> {
  return dayPages(day, pageRows, (after, toMs) =>
    db
      .select()
      .from(transactions)
      .where(dayPageWhere(transactions, after, toMs))
      .orderBy(asc(transactions.createdAtMs), asc(transactions.transactionId))
      .limit(pageRows)
      .all(),
  );
}

/** A day's cancellations that have a player, in (created_at_ms, transaction_id) order. */
export function dayCancellationRows(
  db: LedgerDb,
  day: number,
  pageRows = DAY_PAGE_ROWS,
): AsyncGenerator<CancellationRow[]> {
  return dayPages(day, pageRows, (after, toMs) =>
    db
      .select()
      .from(cancellations)
      .where(dayPageWhere(cancellations, after, toMs))
      .orderBy(asc(cancellations.createdAtMs), asc(cancellations.transactionId))
      .limit(pageRows)
      .all(),
  );
}

/** What a day's written archive holds, as recorded once its parts and manifest are verified. */
export interface WrittenDay {
  day: number;
  parts: number;
  entryRows: number;
  idRows: number;
  cancellationRows: number;
  bytes: number;
  manifestSha256: string;
}

/**
 * Records a day as written (parts and manifest in R2, verified), with its daily-report rows, in one
 * batch. A rerun over a day already recorded changes nothing.
 */
export async function recordWrittenDay(
  db: LedgerDb,
  written: WrittenDay,
  report: DailyTotals[],
  nowMs: number,
): Promise<void> {
  const statements = [
    db
      .insert(archiveDays)
      .values({ ...written, status: "written", updatedAtMs: nowMs })
      .onConflictDoNothing(),
    ...report.map((row) =>
      db
        .insert(archivedReportRows)
        .values({
          day: row.day,
          operatorId: row.operatorId,
          brandId: row.brandId,
          currency: row.currency,
          debitsCount: row.debits.count,
          debitsMinor: row.debits.amountMinor,
          creditsCount: row.credits.count,
          creditsMinor: row.credits.amountMinor,
          cancelledDebitsCount: row.cancelledDebits.count,
          cancelledDebitsMinor: row.cancelledDebits.amountMinor,
          cancelledCreditsCount: row.cancelledCredits.count,
          cancelledCreditsMinor: row.cancelledCredits.amountMinor,
          transfersInCount: row.transfersIn.count,
          transfersInMinor: row.transfersIn.amountMinor,
          transfersOutCount: row.transfersOut.count,
          transfersOutMinor: row.transfersOut.amountMinor,
          ggrMinor: row.ggrMinor,
        })
        .onConflictDoNothing(),
    ),
  ] as const;
  await db.batch(statements);
}

/** Moves a day from one status to the next; false if it was not in `from` (another run moved it). */
export async function advanceDay(
  db: LedgerDb,
  day: number,
  from: ArchiveDayStatus,
  to: ArchiveDayStatus,
  nowMs: number,
): Promise<boolean> {
  const moved = await db
    .update(archiveDays)
    .set({ status: to, updatedAtMs: nowMs })
    .where(and(eq(archiveDays.day, day), eq(archiveDays.status, from)))
    .returning({ day: archiveDays.day })
    .all();
  return moved.length === 1;
}

/**
 * Deletes the next batch of a day's rows: at most DELETE_BATCH_ROWS of each table (ledger entries,
 * id rows, cancellations), plus any sharing the cut's millisecond, so that an id row, its entry and
 * its cancellation (written in one D1 batch, with one timestamp) leave together. The players'
 * archived totals are computed by SQL from exactly the entries deleted, in the same batch: a
 * batch that commits moves each entry's delta from the live ledger to the totals, one that fails
 * moves nothing, whatever ran before or runs at the same time. Returns the rows deleted (0: the
 * day holds no more rows of a player).
 */
export async function deleteDayBatch(db: LedgerDb, day: number): Promise<number> {
  const { fromMs, toMs } = dayRange(day);
  const nth = DELETE_BATCH_ROWS - 1;
  const cut = await db.get<{ cutMs: number | null }>(sql`
    SELECT MIN(m) AS cutMs FROM (
      SELECT (SELECT created_at_ms FROM ledger_entries
              WHERE created_at_ms >= ${fromMs} AND created_at_ms < ${toMs}
              ORDER BY created_at_ms, id LIMIT 1 OFFSET ${nth}) AS m
      UNION ALL
      SELECT (SELECT created_at_ms FROM transactions
              WHERE created_at_ms >= ${fromMs} AND created_at_ms < ${toMs} AND player_id IS NOT NULL
              ORDER BY created_at_ms, transaction_id LIMIT 1 OFFSET ${nth})
      UNION ALL
      SELECT (SELECT created_at_ms FROM cancellations
              WHERE created_at_ms >= ${fromMs} AND created_at_ms < ${toMs} AND player_id IS NOT NULL
              ORDER BY created_at_ms, transaction_id LIMIT 1 OFFSET ${nth}))`);
  // No table has DELETE_BATCH_ROWS rows left in the day: the rest of the day fits in one batch.
  const lastMs = cut?.cutMs ?? toMs - 1;
  // Raw statements: drizzle's D1 batch does not take sql`` queries. The day is written into the
  // SQL (an integer the job computed), not bound: D1 may bind a JavaScript number as a REAL.
  const d1 = db.$client;
  const inBatch = "created_at_ms >= ?1 AND created_at_ms <= ?2";
  const statements = [
    // The id's owner stays in D1 for the id window; the rest of what was known of it is in the
    // owner's object (copied before this step) and in R2. A batch's item keeps its batch_id and the
    // id of its applying entry (read before that entry is deleted below: an id row and its entry
    // share a timestamp, so they are in the same delete batch), so that a cancel by batch_id alone
    // still finds it, in the same order (transactionsOfBatch).
    `INSERT OR IGNORE INTO archived_id_owners (transaction_id, player_id, day, batch_id, applied_entry_id)
     SELECT t.transaction_id, t.player_id, ${Math.trunc(day)}, t.batch_id,
       CASE WHEN t.batch_id IS NULL THEN NULL ELSE
         (SELECT e.id FROM ledger_entries e
          WHERE e.transaction_id = t.transaction_id AND e.effect = 'apply') END
     FROM transactions t
     WHERE t.created_at_ms >= ?1 AND t.created_at_ms <= ?2 AND t.player_id IS NOT NULL`,
    `INSERT INTO archived_totals (player_id, entries, delta_minor, through_day)
     SELECT player_id, COUNT(*), SUM(delta_minor), ${Math.trunc(day)}
     FROM ledger_entries WHERE ${inBatch} GROUP BY player_id
     ON CONFLICT (player_id) DO UPDATE SET
       entries = entries + excluded.entries,
       delta_minor = delta_minor + excluded.delta_minor,
       through_day = MAX(through_day, excluded.through_day)`,
    `DELETE FROM ledger_entries WHERE ${inBatch}`,
    `DELETE FROM transactions WHERE ${inBatch} AND player_id IS NOT NULL`,
    `DELETE FROM cancellations WHERE ${inBatch} AND player_id IS NOT NULL`,
  ];
  const results = await d1.batch(statements.map((text) => d1.prepare(text).bind(fromMs, lastMs)));
  const deleted = [results[2], results[3], results[4]];
  return deleted.reduce((sum, result) => sum + (result?.meta.changes ?? 0), 0);
}

/**
 * Forgets, at most DELETE_BATCH_ROWS at a time (the writer bound above), the owners of ids archived
 * on a day before `beforeDay` (the id window has passed). Returns how many it forgot.
 */
export async function pruneArchivedOwners(db: LedgerDb, beforeDay: number): Promise<number> {
  const result = await db.$client
    .prepare(
      `DELETE FROM archived_id_owners WHERE transaction_id IN (
         SELECT transaction_id FROM archived_id_owners WHERE day < ?1 LIMIT ${DELETE_BATCH_ROWS})`,
    )
    .bind(beforeDay)
    .run();
  return result.meta.changes ?? 0;
}

/** The job's lease row in archive_lease. */
const LEASE = "ledger-archive";

/**
 * Takes the job's lease for `holder` until `untilMs`, if it is free or expired at `nowMs`. One
 * conditional write: of two runs at once, exactly one gets it.
 */
export async function takeLease(
  db: LedgerDb,
  holder: string,
  nowMs: number,
  untilMs: number,
): Promise<boolean> {
  const taken = await db.all<{ holder: string }>(sql`
    INSERT INTO archive_lease (name, holder, expires_at_ms) VALUES (${LEASE}, ${holder}, ${untilMs})
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
      WHERE archive_lease.expires_at_ms <= ${nowMs}
    RETURNING holder`);
  return taken.some((row) => row.holder === holder);
}

export async function releaseLease(db: LedgerDb, holder: string): Promise<void> {
  await db.run(sql`DELETE FROM archive_lease WHERE name = ${LEASE} AND holder = ${holder}`);
}

/** What the archive holds of a player's ledger, if anything (entries, sum of deltas, last day). */
export async function archivedTotalsOf(
  db: LedgerDb,
  playerId: string,
): Promise<typeof archivedTotals.$inferSelect | undefined> {
  return db.select().from(archivedTotals).where(eq(archivedTotals.playerId, playerId)).get();
}

export type ArchiveRunRow = typeof archiveRuns.$inferSelect;

export async function recordArchiveRun(
  db: LedgerDb,
  run: Omit<ArchiveRunRow, "id">,
): Promise<void> {
  await db.insert(archiveRuns).values(run);
}

/** What GET /admin/archive shows: every day started, and the last run. */
export async function archiveStatus(db: LedgerDb): Promise<{
  days: ArchiveDayRow[];
  lastRun: ArchiveRunRow | undefined;
  lastError: ArchiveRunRow | undefined;
}> {
  const [days, lastRun, lastError] = await db.batch([
    db.select().from(archiveDays).orderBy(asc(archiveDays.day)),
    db.select().from(archiveRuns).orderBy(sql`${archiveRuns.id} DESC`).limit(1),
    db
      .select()
      .from(archiveRuns)
      .where(isNotNull(archiveRuns.error))
      .orderBy(sql`${archiveRuns.id} DESC`)
      .limit(1),
  ]);
  return { days, lastRun: lastRun[0], lastError: lastError[0] };
}
