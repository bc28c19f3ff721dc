import { ledgerDb } from "../ledger/db";
import { exportPagesAcrossArchive } from "../ledger/archive-read";
import type { ExportEntry } from "../ledger/export";
import {
  type DailyTotals,
  dailyTotalsAcrossArchive,
  MS_PER_DAY,
  type Tally,
} from "../ledger/report";
import { formatMinor } from "../money";
import { csvRow } from "./csv";
import { jsonResponse } from "./json";
import type { ApiRequest } from "./request";
import { DailyReportQuery, LedgerExportEntry, LedgerExportQuery, parseWith } from "./schemas";
import { entryFigures, moneyNumber } from "./views";

// The operator's figures for finance and the regulator: the daily report (totals summed by D1) and
// the ledger export (every entry of a range, streamed page by page).

function dayBody(totals: DailyTotals) {
  const { currency } = totals;
  const tally = ({ count, amountMinor }: Tally) => ({
    count,
    amount: moneyNumber(amountMinor, currency),
  });
  return {
    date: new Date(totals.day * MS_PER_DAY).toISOString().slice(0, 10),
    operator_id: totals.operatorId,
    brand_id: totals.brandId,
    currency,
    debits: tally(totals.debits),
    credits: tally(totals.credits),
    cancelled_debits: tally(totals.cancelledDebits),
    cancelled_credits: tally(totals.cancelledCredits),
    transfers_in: tally(totals.transfersIn),
    transfers_out: tally(totals.transfersOut),
    ggr: moneyNumber(totals.ggrMinor, currency),
  };
}

/**
 * GET /admin/reports/daily?from=&to=[&brand_id=]: totals per UTC day, operator, brand, currency;
 * archived days from the rows stored when they were archived (docs/archive.md).
 */
export async function dailyReport(request: ApiRequest, env: Env): Promise<Response> {
  const query = parseWith(DailyReportQuery, {
    from: request.query.from,
    to: request.query.to,
    brand_id: request.query.brand_id,
  });
  const totals = await dailyTotalsAcrossArchive(
    ledgerDb(env.DB),
    query.from * MS_PER_DAY,
    (query.to + 1) * MS_PER_DAY,
    query.brand_id,
  );
  return jsonResponse(200, { days: totals.map(dayBody) });
}

/** The fields of one exported entry, in the order of LedgerExportEntry (the CSV header). */
const EXPORT_FIELDS = Object.keys(LedgerExportEntry.shape);

function exportLine(entry: ExportEntry) {
  return {
    entry_id: entry.id,
    created_at: new Date(entry.createdAtMs).toISOString(),
    player_id: entry.playerId,
    operator_id: entry.operatorId,
    brand_id: entry.brandId,
    ...entryFigures(entry),
  };
}

const FORMATS = {
  ndjson: {
    contentType: "application/x-ndjson; charset=utf-8",
    header: "",
    line: (entry: ExportEntry) => `${JSON.stringify(exportLine(entry))}\n`,
  },
  csv: {
    contentType: "text/csv; charset=utf-8; header=present",
    header: csvRow(EXPORT_FIELDS),
    line: (entry: ExportEntry) =>
      csvRow([
        String(entry.id),
        new Date(entry.createdAtMs).toISOString(),
        entry.playerId,
        entry.operatorId,
        entry.brandId,
        entry.transactionId,
        entry.effect,
        entry.type,
        formatMinor(entry.deltaMinor, entry.currency),
        formatMinor(entry.balanceAfterMinor, entry.currency),
        entry.currency,
        entry.metadata ?? "",
      ]),
  },
} as const;

/**
 * GET /admin/ledger/export?from=&to=[&format=ndjson|csv]: every entry in [from, to), oldest first,
 * streamed. D1 is read one page at a time, when the client has taken the page before, so memory
 * stays at one page however long the range. The first page is read before answering, so that a
 * failing D1 answers a plain 500; a failure later can only cut the stream off, which the client
 * sees as a broken transfer (no final chunk), never as a complete file. Entries are written with
 * the wallet's clock as they commit: export a range that has ended for a file that is final.
 */
export async function ledgerExport(request: ApiRequest, env: Env): Promise<Response> {
  const query = parseWith(LedgerExportQuery, {
    from: request.query.from,
    to: request.query.to,
    format: request.query.format,
  });
  const format = FORMATS[query.format];
  // Archived days stream from their R2 parts, the others from D1 (docs/archive.md).
  const pages = exportPagesAcrossArchive(
    ledgerDb(env.DB),
    env.LEDGER_ARCHIVE,
    query.from,
    query.to,
  );
  let next: IteratorResult<ExportEntry[]> | undefined = await pages.next();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (format.header) controller.enqueue(encoder.encode(format.header));
    },
    async pull(controller) {
      try {
        const page = next ?? (await pages.next());
        next = undefined;
        if (page.done) {
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(page.value.map(format.line).join("")));
      } catch (error) {
        console.error(JSON.stringify({ event: "ledger_export_failed", error: String(error) }));
        controller.error(error);
      }
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    // The ledger holds balances and player ids: no browser or proxy may keep it.
    headers: { "content-type": format.contentType, "cache-control": "no-store" },
  });
}
