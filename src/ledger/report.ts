import { and, asc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { MinorUnits } from "../money";
import type { LedgerDb } from "./db";
import { archiveDays, archivedReportRows, type EntryType } from "./schema";

// The daily report: totals per UTC day, operator, brand and currency, summed by D1 (GROUP BY) over
// the entries of a time range, so the Worker receives one row per group, never the entries.

export const MS_PER_DAY = 86_400_000;

/** A count of entries and the sum of their amounts, each amount positive (see the mapping below). */
export interface Tally {
  count: number;
  amountMinor: MinorUnits;
}

export interface DailyTotals {
  /** Days since 1970-01-01 UTC: the UTC day of the entries' created_at_ms. */
  day: number;
  operatorId: string;
  brandId: string;
  currency: string;
  debits: Tally;
  credits: Tally;
  cancelledDebits: Tally;
  cancelledCredits: Tally;
  transfersIn: Tally;
  transfersOut: Tally;
  /** Gross gaming revenue: debits − credits − cancelled debits + cancelled credits; may be negative. */
  ggrMinor: MinorUnits;
}

const TALLY_NAMES = [
  "debits",
  "credits",
  "cancelledDebits",
  "cancelledCredits",
  "transfersIn",
  "transfersOut",
] as const;
type TallyName = (typeof TALLY_NAMES)[number];

// The entries each tally counts, and the sign that writes its amount positive: a Debit's entry, a
// Credit's reversal and a transfer out take money from the player (negative delta), the others give
// it. Entries of type None (amount 0), and any other (effect, type), count nowhere, yet their day
// still has a row.
const TALLIES: Record<TallyName, { effect: "apply" | "reverse"; type: EntryType; sign: 1 | -1 }> = {
  debits: { effect: "apply", type: "Debit", sign: -1 },
  credits: { effect: "apply", type: "Credit", sign: 1 },
  cancelledDebits: { effect: "reverse", type: "Debit", sign: 1 },
  cancelledCredits: { effect: "reverse", type: "Credit", sign: -1 },
  transfersIn: { effect: "apply", type: "TransferIn", sign: 1 },
  transfersOut: { effect: "apply", type: "TransferOut", sign: -1 },
};

function tallyColumns(name: TallyName) {
  const { effect, type, sign } = TALLIES[name];
  const match = sql`l.effect = ${effect} AND l.type = ${type}`;
  const amount = sign < 0 ? sql`-l.delta_minor` : sql`l.delta_minor`;
  return sql`COUNT(CASE WHEN ${match} THEN 1 END) AS ${sql.raw(`"${name}Count"`)},
    COALESCE(SUM(CASE WHEN ${match} THEN ${amount} END), 0) AS ${sql.raw(`"${name}Minor"`)}`;
}

// GGR = debits − credits − cancelled debits + cancelled credits, which is minus the sum of the
// deltas of every Debit and Credit entry, applied or reversed. Summed by D1 like the tallies, so
// the Worker does no arithmetic on money: SUM of INTEGERs stays an INTEGER in SQLite (exact to 2^63,
// an error past it, never a float), and a total past 2^53, which a JavaScript number cannot hold
// exactly, is refused by formatMinor (500). A figure is exact or not answered.
const GGR_MINOR = sql`COALESCE(-SUM(CASE WHEN l.type IN ('Debit', 'Credit') THEN l.delta_minor END), 0) AS "ggrMinor"`;

type Row = {
  day: number;
  operatorId: string;
  brandId: string;
  currency: string;
  ggrMinor: number;
} & Record<`${TallyName}Count` | `${TallyName}Minor`, number>;

// Written into the SQL, not bound: D1 may bind a JavaScript number as a REAL, and an INTEGER divided
// by a REAL is a fraction of a day, which would split one day into a group per entry time.
const MS_PER_DAY_LITERAL = sql.raw(String(MS_PER_DAY));

/** The one aggregate query of the report (exported so a test can ask SQLite for its plan). */
export function dailyTotalsQuery(fromMs: number, toMs: number, brandId?: string): SQL {
  return sql`
    SELECT l.created_at_ms / ${MS_PER_DAY_LITERAL} AS day, p.operator_id AS operatorId,
           p.brand_id AS brandId, l.currency AS currency,
           ${sql.join(TALLY_NAMES.map(tallyColumns), sql`, `)}, ${GGR_MINOR}
    FROM ledger_entries l
    JOIN players p ON p.id = l.player_id
    WHERE l.created_at_ms >= ${fromMs} AND l.created_at_ms < ${toMs}
      ${brandId === undefined ? sql`` : sql`AND p.brand_id = ${brandId}`}
    GROUP BY day, p.operator_id, p.brand_id, l.currency
    ORDER BY day, p.operator_id, p.brand_id, l.currency`;
}

/**
 * The totals of every (UTC day, operator, brand, currency) that has ledger entries in
 * [fromMs, toMs), ordered by day, operator, brand and currency. The range is read through
 * ledger_entries_created_idx (created_at_ms, id); operator and brand come from the player row
 * (players are never deleted, so the inner join loses no entry).
 */
export async function dailyTotals(
  db: LedgerDb,
  fromMs: number,
  toMs: number,
  brandId?: string,
): Promise<DailyTotals[]> {
  const rows = await db.all<Row>(dailyTotalsQuery(fromMs, toMs, brandId));
  return rows.map((row) => {
    const tally = (name: TallyName): Tally => ({
      count: row[`${name}Count`],
      amountMinor: row[`${name}Minor`],
    });
    return {
      day: row.day,
      operatorId: row.operatorId,
      brandId: row.brandId,
      currency: row.currency,
      debits: tally("debits"),
      credits: tally("credits"),
      cancelledDebits: tally("cancelledDebits"),
      cancelledCredits: tally("cancelledCredits"),
      transfersIn: tally("transfersIn"),
      transfersOut: tally("transfersOut"),
      ggrMinor: row.ggrMinor,
    };
  });
}

/**
 * The report across the archive's boundary (docs/archive.md): a day the archive has written is
 * answered from the rows stored when it was written (archived_report_rows, the same rows as its
 * manifest), since its entries leave D1 batch by batch after that; every other day from the live
 * entries. A closed day's rows never change: a later cancel's reversal counts on the day of the
 * cancel.
 */
export async function dailyTotalsAcrossArchive(
  db: LedgerDb,
  fromMs: number,
  toMs: number,
  brandId?: string,
): Promise<DailyTotals[]> {
  const fromDay = Math.floor(fromMs / MS_PER_DAY);
  const toDay = Math.ceil(toMs / MS_PER_DAY);
  const [written, stored] = await db.batch([
    db
      .select({ day: archiveDays.day })
      .from(archiveDays)
      .where(and(gte(archiveDays.day, fromDay), lt(archiveDays.day, toDay))),
    db
      .select()
      .from(archivedReportRows)
      .innerJoin(archiveDays, eq(archiveDays.day, archivedReportRows.day))
      .where(
        and(
          gte(archivedReportRows.day, fromDay),
          lt(archivedReportRows.day, toDay),
          brandId === undefined ? undefined : eq(archivedReportRows.brandId, brandId),
        ),
      )
      .orderBy(asc(archivedReportRows.day)),
  ]);
  const archived = new Set(written.map((row) => row.day));
  if (archived.size === 0) return dailyTotals(db, fromMs, toMs, brandId);
  const live = (await dailyTotals(db, fromMs, toMs, brandId)).filter(
    (row) => !archived.has(row.day),
  );
  const fromArchive: DailyTotals[] = stored.map(({ archived_report_rows: r }) => ({
    day: r.day,
    operatorId: r.operatorId,
    brandId: r.brandId,
    currency: r.currency,
    debits: { count: r.debitsCount, amountMinor: r.debitsMinor },
    credits: { count: r.creditsCount, amountMinor: r.creditsMinor },
    cancelledDebits: { count: r.cancelledDebitsCount, amountMinor: r.cancelledDebitsMinor },
    cancelledCredits: { count: r.cancelledCreditsCount, amountMinor: r.cancelledCreditsMinor },
    transfersIn: { count: r.transfersInCount, amountMinor: r.transfersInMinor },
    transfersOut: { count: r.transfersOutCount, amountMinor: r.transfersOutMinor },
    ggrMinor: r.ggrMinor,
  }));
  const key = (t: DailyTotals) => [t.day, t.operatorId, t.brandId, t.currency] as const;
  return [...live, ...fromArchive].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let n = 0; n < x.length; n++) {
      const p = x[n] ?? "";
      const q = y[n] ?? "";
      if (p !== q) return p < q ? -1 : 1;
    }
    return 0;
  });
}
