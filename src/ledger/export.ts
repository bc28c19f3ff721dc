import { type SQL, sql } from "drizzle-orm";
import type { LedgerDb } from "./db";
import type { EntryType } from "./schema";

// The ledger export reads the entries of a time range in pages, oldest first, so that a month of
// entries never sits in the Worker's memory at once: each page starts after the last entry of the
// one before (keyset paging by (created_at_ms, id), the order of ledger_entries_created_idx). An
// OFFSET would re-read every skipped row; entries written in one group commit share a timestamp,
// hence the id as the tie-breaker.

/** Entries per D1 read: small enough for one query's answer, large enough for few round trips. */
export const EXPORT_PAGE_ENTRIES = 500;

export interface ExportEntry {
  id: number;
  createdAtMs: number;
  playerId: string;
  operatorId: string;
  brandId: string;
  transactionId: string;
  effect: "apply" | "reverse";
  type: EntryType;
  deltaMinor: number;
  balanceAfterMinor: number;
  currency: string;
  metadata: string | null;
}

/** Where the next page starts: after this (created_at_ms, id). */
export interface ExportCursor {
  createdAtMs: number;
  id: number;
}

/** The cursor before every entry at or after `fromMs` (entry ids start at 1). */
export function cursorAt(fromMs: number): ExportCursor {
  return { createdAtMs: fromMs, id: 0 };
}

/** The query of one page (exported so a test can ask SQLite for its plan). */
export function exportPageQuery(after: ExportCursor, toMs: number, limit: number): SQL {
  return sql`
    SELECT l.id AS id, l.created_at_ms AS createdAtMs, l.player_id AS playerId,
           p.operator_id AS operatorId, p.brand_id AS brandId, l.transaction_id AS transactionId,
           l.effect AS effect, l.type AS type, l.delta_minor AS deltaMinor,
           l.balance_after_minor AS balanceAfterMinor, l.currency AS currency,
           l.metadata AS metadata
    FROM ledger_entries l
    JOIN players p ON p.id = l.player_id
    WHERE (l.created_at_ms, l.id) > (${after.createdAtMs}, ${after.id})
      AND l.created_at_ms < ${toMs}
    ORDER BY l.created_at_ms, l.id
    LIMIT ${limit}`;
}

/**
 * Up to `limit` entries after `after` and before `toMs`, in (created_at_ms, id) order, each with its
 * player's operator and brand (players are never deleted, so the inner join loses no entry).
 */
export async function exportPage(
  db: LedgerDb,
  after: ExportCursor,
  toMs: number,
  limit: number = EXPORT_PAGE_ENTRIES,
): Promise<ExportEntry[]> {
  return db.all<ExportEntry>(exportPageQuery(after, toMs, limit));
}

/**
 * Every entry in [fromMs, toMs), oldest first, one page at a time: the next page is read only when
 * the consumer asks for it.
 */
export async function* exportPages(
  db: LedgerDb,
  fromMs: number,
  toMs: number,
  pageEntries: number = EXPORT_PAGE_ENTRIES,
): AsyncGenerator<ExportEntry[]> {
  let cursor = cursorAt(fromMs);
  for (;;) {
    const page = await exportPage(db, cursor, toMs, pageEntries);
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (!last || page.length < pageEntries) return;
    cursor = { createdAtMs: last.createdAtMs, id: last.id };
  }
}
