import { getTableColumns } from "drizzle-orm";
import * as z from "zod";
import type { ExportEntry } from "./export";
import { type DailyTotals, MS_PER_DAY } from "./report";
import { cancellations, ENTRY_TYPES, transactions } from "./schema";

// What one archived UTC day is in R2 (docs/archive.md): NDJSON parts compressed with gzip, and a
// manifest that names every part with its row count and SHA-256, the day's per-player totals and its
// daily-report rows. Pure: no D1, no R2; the archive job writes and reads these bytes.

/** Bumped only with a new key prefix (ledger/v2/…): a reader can always tell the format of a key. */
export const ARCHIVE_FORMAT_VERSION = 1;

/**
 * A part holds at most this many rows and this many bytes of NDJSON before compression, so that
 * the job builds, hashes and reads back one part in a bounded slice of a Worker's 128 MB (a row is
 * a few hundred bytes; metadata can make one larger, hence the byte bound as well).
 */
export const PART_MAX_ROWS = 10_000;
export const PART_MAX_BYTES = 8 * 1024 * 1024;

/** The three kinds of rows a day archives, each in its own parts. */
export const PART_KINDS = ["entries", "ids", "cancellations"] as const;
export type PartKind = (typeof PART_KINDS)[number];

/** The file name stem of each kind: ledger entries are the `part-NNNNN` files. */
const PART_STEM: Record<PartKind, string> = {
  entries: "part",
  ids: "ids",
  cancellations: "cancellations",
};

/** "2026-12-04" for a day number (days since 1970-01-01 UTC). */
export function dayText(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** `ledger/v1/2026/12/04/`: every object of one day starts with it. */
export function dayPrefix(day: number): string {
  return `ledger/v${ARCHIVE_FORMAT_VERSION}/${dayText(day).replaceAll("-", "/")}/`;
}

/** `ledger/v1/2026/12/04/part-00000.ndjson.gz`, `…/ids-00000.ndjson.gz`, `…/cancellations-00000.ndjson.gz`. */
export function partKey(day: number, kind: PartKind, index: number): string {
  return `${dayPrefix(day)}${PART_STEM[kind]}-${String(index).padStart(5, "0")}.ndjson.gz`;
}

/** `ledger/v1/2026/12/04/manifest.json`: written last, once every part is written and verified. */
export function manifestKey(day: number): string {
  return `${dayPrefix(day)}manifest.json`;
}

// ---- Lines ----------------------------------------------------------------------------------

/**
 * One ledger entry: every field of the ledger export (src/ledger/export.ts, ExportEntry), with
 * money as integer minor units and metadata as the JSON text D1 stored, so a line is the D1 row
 * exactly and the export renders it in its own formats as it renders a live entry.
 */
const EntryLine = z.strictObject({
  entry_id: z.number().int().positive(),
  created_at_ms: z.number().int(),
  player_id: z.string(),
  operator_id: z.string(),
  brand_id: z.string(),
  transaction_id: z.string(),
  effect: z.enum(["apply", "reverse"]),
  type: z.enum(ENTRY_TYPES),
  delta_minor: z.number().int(),
  balance_after_minor: z.number().int(),
  currency: z.string(),
  metadata: z.string().nullable(),
});

export function entryLine(entry: ExportEntry): string {
  return JSON.stringify({
    entry_id: entry.id,
    created_at_ms: entry.createdAtMs,
    player_id: entry.playerId,
    operator_id: entry.operatorId,
    brand_id: entry.brandId,
    transaction_id: entry.transactionId,
    effect: entry.effect,
    type: entry.type,
    delta_minor: entry.deltaMinor,
    balance_after_minor: entry.balanceAfterMinor,
    currency: entry.currency,
    metadata: entry.metadata,
  } satisfies z.infer<typeof EntryLine>);
}

export function parseEntryLine(line: string): ExportEntry {
  const e = EntryLine.parse(JSON.parse(line));
  return {
    id: e.entry_id,
    createdAtMs: e.created_at_ms,
    playerId: e.player_id,
    operatorId: e.operator_id,
    brandId: e.brand_id,
    transactionId: e.transaction_id,
    effect: e.effect,
    type: e.type,
    deltaMinor: e.delta_minor,
    balanceAfterMinor: e.balance_after_minor,
    currency: e.currency,
    metadata: e.metadata,
  };
}

export type IdRow = typeof transactions.$inferSelect;
export type CancellationRow = typeof cancellations.$inferSelect;

/**
 * A row of `transactions` or `cancellations` as one line: every column under its SQL name, in the
 * table's order, values as stored. Derived from the schema, so a new column is archived with no
 * edit here.
 */
function rowCodec<Row extends Record<string, unknown>>(
  table: typeof transactions | typeof cancellations,
) {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => ({
    key,
    name: column.name,
    notNull: column.notNull,
    kind: column.dataType === "number" ? "number" : "string",
  }));
  return {
    line(row: Row): string {
      return JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, row[c.key] ?? null])));
    },
    parse(line: string): Row {
      const value: unknown = JSON.parse(line);
      if (typeof value !== "object" || value === null) throw new Error("not an object");
      const names = Object.keys(value);
      // A nullable column may be absent: it was added after the line was written (listed_brands,
      // migration 0007), and such a row held NULL there. Any other difference is damage.
      if (
        names.some((name) => !columns.some((c) => c.name === name)) ||
        columns.some((c) => c.notNull && !names.includes(c.name))
      )
        throw new Error(`a line has the columns ${names.join(", ")}`);
      const row: Record<string, unknown> = {};
      for (const c of columns) {
        const cell: unknown = names.includes(c.name) ? Reflect.get(value, c.name) : null;
        const ok =
          (cell === null && !c.notNull) ||
          (c.kind === "number" ? Number.isInteger(cell) : typeof cell === "string");
        if (!ok) throw new Error(`${c.name}: ${JSON.stringify(cell)} is not a stored value`);
        row[c.key] = cell;
      }
      // Every column was checked against the table's own definition just above.
      return row as Row;
    },
  };
}

export const idRowCodec = rowCodec<IdRow>(transactions);
export const cancellationRowCodec = rowCodec<CancellationRow>(cancellations);

// ---- Parts ----------------------------------------------------------------------------------

/**
 * Splits lines (in the day's order) into parts within PART_MAX_ROWS and PART_MAX_BYTES. The split
 * depends only on the lines, so a rerun over the same rows cuts the same parts.
 */
export function splitParts(
  lines: readonly string[],
  maxRows = PART_MAX_ROWS,
  maxBytes = PART_MAX_BYTES,
): string[][] {
  const parts: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  const encoder = new TextEncoder();
  for (const line of lines) {
    const lineBytes = encoder.encode(line).length + 1;
    if (current.length > 0 && (current.length >= maxRows || bytes + lineBytes > maxBytes)) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += lineBytes;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** The NDJSON text of a part's lines: one line each, each ended by "\n". */
export function ndjson(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join("");
}

/** The lines of an NDJSON text (the inverse of ndjson()). */
export function ndjsonLines(text: string): string[] {
  if (text === "") return [];
  if (!text.endsWith("\n")) throw new Error("a part's last line is cut off");
  return text.slice(0, -1).split("\n");
}

export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gunzip(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// ---- Manifest -------------------------------------------------------------------------------

const PartRecord = z.strictObject({
  key: z.string(),
  kind: z.enum(PART_KINDS),
  rows: z.number().int().nonnegative(),
  /** Bytes of the object as stored (gzip). */
  bytes: z.number().int().nonnegative(),
  /** SHA-256 (hex) of the object as stored. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PartRecord = z.infer<typeof PartRecord>;

const PlayerTotal = z.strictObject({
  player_id: z.string(),
  currency: z.string(),
  entries: z.number().int().positive(),
  delta_minor: z.number().int(),
});
export type PlayerTotal = z.infer<typeof PlayerTotal>;

const tally = z.strictObject({ count: z.number().int(), amount_minor: z.number().int() });

/** A row of the daily report (src/ledger/report.ts, DailyTotals), money in minor units. */
const ReportRow = z.strictObject({
  operator_id: z.string(),
  brand_id: z.string(),
  currency: z.string(),
  debits: tally,
  credits: tally,
  cancelled_debits: tally,
  cancelled_credits: tally,
  transfers_in: tally,
  transfers_out: tally,
  ggr_minor: z.number().int(),
});

export const Manifest = z.strictObject({
  format: z.literal("edge-wallet-ledger-archive"),
  version: z.literal(ARCHIVE_FORMAT_VERSION),
  /** "2026-12-04": the UTC day, [from_ms, to_ms). */
  day: z.string(),
  from_ms: z.number().int(),
  to_ms: z.number().int(),
  /** In key order per kind: entries (by created_at_ms, entry id), ids and cancellations (by created_at_ms, id). */
  parts: z.array(PartRecord),
  /** Per player and currency, the day's entries and the sum of their deltas. */
  players: z.array(PlayerTotal),
  daily_report: z.array(ReportRow),
});
export type Manifest = z.infer<typeof Manifest>;

export function reportRow(totals: DailyTotals): z.infer<typeof ReportRow> {
  const t = (x: { count: number; amountMinor: number }) => ({
    count: x.count,
    amount_minor: x.amountMinor,
  });
  return {
    operator_id: totals.operatorId,
    brand_id: totals.brandId,
    currency: totals.currency,
    debits: t(totals.debits),
    credits: t(totals.credits),
    cancelled_debits: t(totals.cancelledDebits),
    cancelled_credits: t(totals.cancelledCredits),
    transfers_in: t(totals.transfersIn),
    transfers_out: t(totals.transfersOut),
    ggr_minor: totals.ggrMinor,
  };
}

/** Per player and currency, the count and the sum of deltas of the entries added, a page at a time. */
export class PlayerTotals {
  readonly #totals = new Map<string, PlayerTotal>();

  add(entries: Iterable<ExportEntry>): this {
    for (const entry of entries) {
      const key = JSON.stringify([entry.playerId, entry.currency]);
      const total = this.#totals.get(key) ?? {
        player_id: entry.playerId,
        currency: entry.currency,
        entries: 0,
        delta_minor: 0,
      };
      total.entries += 1;
      total.delta_minor += entry.deltaMinor;
      this.#totals.set(key, total);
    }
    return this;
  }

  /** Ordered by player, then currency. */
  list(): PlayerTotal[] {
    return [...this.#totals.values()].sort(
      (a, b) => compareText(a.player_id, b.player_id) || compareText(a.currency, b.currency),
    );
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 1)}\n`;
}

export function parseManifest(text: string): Manifest {
  return Manifest.parse(JSON.parse(text));
}
