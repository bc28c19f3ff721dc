import { and, asc, eq, gte, lt } from "drizzle-orm";
import {
  cancellationRowCodec,
  gunzip,
  idRowCodec,
  manifestKey,
  ndjsonLines,
  parseEntryLine,
  parseManifest,
  PlayerTotals,
  sha256Hex,
} from "./archive-format";
import type { LedgerDb } from "./db";
import { type ExportEntry, exportPages } from "./export";
import { playerCurrencyOf, type TransactionHistory, transactionHistoryParts } from "./lookup";
import { MS_PER_DAY } from "./report";
import { archiveDays, archivedIdOwners, archivedTotals } from "./schema";
import type { LedgerPageEntry } from "./transactions";

// Reading history across the archive's boundary (docs/archive.md): the ledger export streams an
// archived day's entries from its R2 parts and every other day's from D1, in one order.

/** The days in [fromMs, toMs) the archive has written (their entries may be leaving D1). */
async function writtenDays(db: LedgerDb, fromMs: number, toMs: number): Promise<number[]> {
  const rows = await db
    .select({ day: archiveDays.day })
    .from(archiveDays)
    .where(
      and(
        gte(archiveDays.day, Math.floor(fromMs / MS_PER_DAY)),
        lt(archiveDays.day, Math.ceil(toMs / MS_PER_DAY)),
      ),
    )
    .orderBy(asc(archiveDays.day))
    .all();
  return rows.map((row) => row.day);
}

/**
 * An archived day's entries in [fromMs, toMs), a part at a time, in (created_at_ms, id) order. Each
 * part is checked against its manifest's digest and row count before a line of it is given out.
 */
export async function* archivedDayEntries(
  bucket: R2Bucket,
  day: number,
  fromMs: number,
  toMs: number,
): AsyncGenerator<ExportEntry[]> {
  const manifestObject = await bucket.get(manifestKey(day));
  if (!manifestObject) throw new Error(`${manifestKey(day)}: missing from the archive`);
  const manifest = parseManifest(await manifestObject.text());
  for (const part of manifest.parts) {
    if (part.kind !== "entries") continue;
    const object = await bucket.get(part.key);
    if (!object) throw new Error(`${part.key}: missing from the archive`);
    const bytes = new Uint8Array(await object.arrayBuffer());
    if ((await sha256Hex(bytes)) !== part.sha256)
      throw new Error(`${part.key}: its digest is not the manifest's`);
    const lines = ndjsonLines(await gunzip(bytes));
    if (lines.length !== part.rows)
      throw new Error(`${part.key}: ${lines.length} rows, the manifest says ${part.rows}`);
    const entries = lines
      .map(parseEntryLine)
      .filter((entry) => entry.createdAtMs >= fromMs && entry.createdAtMs < toMs);
    if (entries.length > 0) yield entries;
  }
}

/**
 * Every entry in [fromMs, toMs), oldest first: the days the archive has written from R2, the
 * others from D1 (exportPages), so the export reads one order and one set of fields whichever
 * side of the boundary a day is on.
 */
export async function* exportPagesAcrossArchive(
  db: LedgerDb,
  bucket: R2Bucket,
  fromMs: number,
  toMs: number,
  livePageEntries?: number,
): AsyncGenerator<ExportEntry[]> {
  let liveFromMs = fromMs;
  for (const day of await writtenDays(db, fromMs, toMs)) {
    const dayFromMs = day * MS_PER_DAY;
    const dayToMs = dayFromMs + MS_PER_DAY;
    if (liveFromMs < dayFromMs)
      yield* exportPages(db, liveFromMs, Math.min(dayFromMs, toMs), livePageEntries);
    yield* archivedDayEntries(bucket, day, Math.max(fromMs, dayFromMs), Math.min(toMs, dayToMs));
    liveFromMs = dayToMs;
  }
  if (liveFromMs < toMs) yield* exportPages(db, liveFromMs, toMs, livePageEntries);
}

/** The lines of every part of `kind` of an archived day, parsed, a part at a time. */
async function* dayPartRows<Row>(
  bucket: R2Bucket,
  day: number,
  kind: "ids" | "cancellations" | "entries",
  parse: (line: string) => Row,
): AsyncGenerator<Row[]> {
  const manifestObject = await bucket.get(manifestKey(day));
  if (!manifestObject) return;
  const manifest = parseManifest(await manifestObject.text());
  for (const part of manifest.parts) {
    if (part.kind !== kind) continue;
    const object = await bucket.get(part.key);
    if (!object) throw new Error(`${part.key}: missing from the archive`);
    yield ndjsonLines(await gunzip(await object.arrayBuffer())).map(parse);
  }
}

async function findInDay<Row>(
  bucket: R2Bucket,
  day: number,
  kind: "ids" | "cancellations",
  parse: (line: string) => Row,
  match: (row: Row) => boolean,
): Promise<Row | undefined> {
  for await (const rows of dayPartRows(bucket, day, kind, parse)) {
    const found = rows.find(match);
    if (found) return found;
  }
  return undefined;
}

/**
 * What the wallet knew of an id whose day the archive moved out of D1: its owner and day from
 * archived_id_owners, its id row, entries and cancellation from that day's R2 parts, and a cancel
 * that came later from D1 (if still live) or from the later archived days' cancellations. Undefined
 * if D1 holds no owner for the id (never seen, or past the id window).
 */
export async function archivedTransactionHistory(
  db: LedgerDb,
  bucket: R2Bucket,
  transactionId: string,
): Promise<TransactionHistory | undefined> {
  const owner = await db
    .select()
    .from(archivedIdOwners)
    .where(eq(archivedIdOwners.transactionId, transactionId))
    .get();
  if (!owner) return undefined;
  const row = await findInDay(
    bucket,
    owner.day,
    "ids",
    idRowCodec.parse,
    (r) => r.transactionId === transactionId,
  );
  if (!row) throw new Error(`${transactionId}: not in the archive of day ${owner.day}`);
  const live = await transactionHistoryParts(db, transactionId);
  let cancellation = live.cancellation;
  // A cancel after the id's day: still live, or archived on a later day.
  if (!cancellation) {
    const laterDays = await db
      .select({ day: archiveDays.day })
      .from(archiveDays)
      .where(gte(archiveDays.day, owner.day))
      .orderBy(asc(archiveDays.day))
      .all();
    for (const { day } of laterDays) {
      cancellation = await findInDay(
        bucket,
        day,
        "cancellations",
        cancellationRowCodec.parse,
        (c) => c.transactionId === transactionId,
      );
      if (cancellation) break;
    }
  }
  const entryDays = new Set([owner.day]);
  if (cancellation) entryDays.add(Math.floor(cancellation.createdAtMs / MS_PER_DAY));
  const entries: LedgerPageEntry[] = [];
  for (const day of [...entryDays].sort((a, b) => a - b)) {
    for await (const page of dayPartRows(bucket, day, "entries", parseEntryLine)) {
      for (const { operatorId: _o, brandId: _b, ...entry } of page)
        if (entry.transactionId === transactionId) entries.push(entry);
    }
  }
  // Entries still live (a reversal not archived yet) follow; an entry is in one place only.
  const seen = new Set(entries.map((e) => e.id));
  for (const entry of live.entries) if (!seen.has(entry.id)) entries.push(entry);
  entries.sort((a, b) => a.id - b.id);
  const reversed = cancellation?.outcome === "reversed";
  return {
    transaction: reversed && row.status === "applied" ? { ...row, status: "cancelled" } : row,
    playerCurrency: live.playerCurrency ?? (await playerCurrencyOf(db, owner.playerId)),
    cancellation,
    entries,
    archivedDay: owner.day,
  };
}

export interface ArchiveCheck {
  daysChecked: number;
  partsChecked: number;
  entriesChecked: number;
  /** What does not hold, one sentence each (at most REPORT_PROBLEMS). */
  problems: string[];
}

const REPORT_PROBLEMS = 100;

/**
 * Re-reads the archive of every day the job has finished (docs/archive.md): each part's SHA-256 and
 * row count against its manifest, each day's per-player sums against its manifest, and the sums over
 * all archived days against the players' archived totals in D1. Reads every part: for an operator's
 * on-demand check (`npm run reconcile -- --archive`), not for every request.
 */
export async function checkArchive(db: LedgerDb, bucket: R2Bucket): Promise<ArchiveCheck> {
  const check: ArchiveCheck = { daysChecked: 0, partsChecked: 0, entriesChecked: 0, problems: [] };
  const problem = (text: string) => {
    if (check.problems.length < REPORT_PROBLEMS) check.problems.push(text);
  };
  const days = await db.select().from(archiveDays).orderBy(asc(archiveDays.day)).all();
  const sums = new Map<string, { entries: number; deltaMinor: number }>();
  for (const day of days) {
    if (day.status !== "archived") continue;
    check.daysChecked += 1;
    const manifestObject = await bucket.get(manifestKey(day.day));
    if (!manifestObject) {
      problem(`${manifestKey(day.day)}: missing`);
      continue;
    }
    const manifestBytes = new Uint8Array(await manifestObject.arrayBuffer());
    if ((await sha256Hex(manifestBytes)) !== day.manifestSha256)
      problem(`${manifestKey(day.day)}: its digest is not the one D1 recorded`);
    const manifest = parseManifest(new TextDecoder().decode(manifestBytes));
    const totals = new PlayerTotals();
    for (const part of manifest.parts) {
      check.partsChecked += 1;
      const object = await bucket.get(part.key);
      if (!object) {
        problem(`${part.key}: missing`);
        continue;
      }
      const bytes = new Uint8Array(await object.arrayBuffer());
      if ((await sha256Hex(bytes)) !== part.sha256)
        problem(`${part.key}: its digest is not the manifest's`);
      try {
        const lines = ndjsonLines(await gunzip(bytes));
        if (lines.length !== part.rows)
          problem(`${part.key}: ${lines.length} rows, the manifest says ${part.rows}`);
        if (part.kind === "entries") {
          const entries = lines.map(parseEntryLine);
          check.entriesChecked += entries.length;
          totals.add(entries);
        }
      } catch (error) {
        problem(`${part.key}: unreadable (${String(error)})`);
      }
    }
    const fromParts = totals.list();
    if (JSON.stringify(fromParts) !== JSON.stringify(manifest.players))
      problem(`${manifestKey(day.day)}: its players' sums are not its parts' lines`);
    for (const total of fromParts) {
      const sum = sums.get(total.player_id) ?? { entries: 0, deltaMinor: 0 };
      sum.entries += total.entries;
      sum.deltaMinor += total.delta_minor;
      sums.set(total.player_id, sum);
    }
  }
  // A day still being deleted has moved part of its entries to the totals: compare once it is done.
  if (days.some((day) => day.status === "ids_copied")) return check;
  const recorded = await db.select().from(archivedTotals).all();
  for (const row of recorded) {
    const sum = sums.get(row.playerId) ?? { entries: 0, deltaMinor: 0 };
    if (sum.entries !== row.entries || sum.deltaMinor !== row.deltaMinor)
      problem(
        `player ${row.playerId}: archived totals ${row.entries} entries, ${row.deltaMinor} minor units; the parts hold ${sum.entries}, ${sum.deltaMinor}`,
      );
    sums.delete(row.playerId);
  }
  for (const playerId of sums.keys())
    problem(`player ${playerId}: archived entries without archived totals`);
  return check;
}
