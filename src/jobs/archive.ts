import { readArchiveConfig } from "../config";
import {
  advanceDay,
  archiveWorkPending,
  dayCancellationRows,
  dayIdRows,
  dayRange,
  deleteDayBatch,
  nextArchiveDay,
  pruneArchivedOwners,
  recordArchiveRun,
  recordWrittenDay,
  releaseLease,
  takeLease,
} from "../ledger/archive";
import {
  ARCHIVE_FORMAT_VERSION,
  cancellationRowCodec,
  dayText,
  entryLine,
  gunzip,
  gzip,
  idRowCodec,
  type Manifest,
  manifestKey,
  manifestText,
  ndjson,
  ndjsonLines,
  PART_MAX_BYTES,
  PART_MAX_ROWS,
  type PartKind,
  type PartRecord,
  partKey,
  parseManifest,
  PlayerTotals,
  reportRow,
  sha256Hex,
  splitParts,
} from "../ledger/archive-format";
import { ledgerDb, type LedgerDb } from "../ledger/db";
import { exportPages } from "../ledger/export";
import { dailyTotals, MS_PER_DAY } from "../ledger/report";
import type { ArchivedId } from "../wallet/archived-ids";
import { playerWallet } from "../wallet/player-wallet";

// The archive job (docs/archive.md): for each closed UTC day older than LEDGER_RETENTION_DAYS,
// oldest first, (1) write the day's parts and manifest to R2, each read back and checked against
// D1, (2) hand every id of the day to its player's object, (3) delete the day's rows from D1 in
// small batches, each adding its entries to the players' archived totals. Each step is recorded in
// archive_days before the next starts, and each is safe to run again, so a run that stops anywhere
// (a crash, a time budget, an error) leaves every row in D1 or verified in R2, and the next run
// finishes the day.

/** What started a run. */
export type ArchiveTrigger = "cron" | "manual";

/**
 * Where a test may stop a run, as if the Worker died there: after the first part's put (not yet
 * read back), after the parts were verified (the day not yet recorded), after the ids were handed
 * to the players' objects (not yet recorded), after the first delete batch.
 */
export const ARCHIVE_CRASH_POINTS = ["put", "verify", "copy", "delete"] as const;
export type ArchiveCrashPoint = (typeof ARCHIVE_CRASH_POINTS)[number];

export interface ArchiveOptions {
  /** Tests only: throw at this point of the first day worked on. */
  crashAt?: ArchiveCrashPoint;
  /** Stop starting new steps after this long (the next run resumes). */
  budgetMs?: number;
}

export interface ArchiveRunResult {
  /** False if another run held the lease: this one did nothing. */
  ran: boolean;
  daysArchived: number;
  rowsDeleted: number;
  error: string | null;
}

/**
 * How long one run works before it leaves the rest to the next: well inside the 15 minutes a Cron
 * Trigger's handler may run. The lease outlives it, so a run that dies still holds the job until
 * its lease expires, and no other run starts over its work meanwhile.
 */
export const ARCHIVE_RUN_BUDGET_MS = 10 * 60_000;
const LEASE_MS = 15 * 60_000;

/** Ids handed to one player's object per call. */
const IDS_PER_CALL = 500;

class InjectedCrash extends Error {}

/**
 * Runs the job as of `nowMs` (the Cron Trigger's scheduledTime, or the clock for a manual run).
 * Never throws: a failure is recorded in archive_runs and in the run's one log line; the wallet
 * keeps serving, and the next run resumes where this one stopped.
 */
export async function runArchive(
  env: Env,
  nowMs: number,
  trigger: ArchiveTrigger,
  options: ArchiveOptions = {},
): Promise<ArchiveRunResult> {
  const startedAtMs = Date.now();
  const db = ledgerDb(env.DB);
  const holder = crypto.randomUUID();
  const result: ArchiveRunResult = { ran: false, daysArchived: 0, rowsDeleted: 0, error: null };
  let leased = false;
  try {
    const config = readArchiveConfig(env);
    leased = await takeLease(db, holder, startedAtMs, startedAtMs + LEASE_MS);
    if (leased) {
      result.ran = true;
      const job = new ArchiveJob(env, db, nowMs, config.transactionIdRetentionDays, options);
      const today = Math.floor(nowMs / MS_PER_DAY);
      const deadlineMs = startedAtMs + (options.budgetMs ?? ARCHIVE_RUN_BUDGET_MS);
      await job.run(today - config.ledgerRetentionDays, deadlineMs, result);
      // Owners of ids past the id window: the objects forget those ids as they get new ones.
      while (Date.now() < deadlineMs) {
        if ((await pruneArchivedOwners(db, today - config.transactionIdRetentionDays)) === 0) break;
      }
    }
  } catch (error) {
    result.error = String(error instanceof Error ? error.message : error);
  } finally {
    if (leased) await releaseLease(db, holder).catch(() => undefined);
  }
  const durationMs = Date.now() - startedAtMs;
  if (result.ran || result.error !== null) {
    await recordArchiveRun(db, {
      trigger,
      nowMs,
      startedAtMs,
      durationMs,
      daysArchived: result.daysArchived,
      rowsDeleted: result.rowsDeleted,
      error: result.error,
    }).catch((error) => {
      result.error ??= `the run could not be recorded: ${String(error)}`;
    });
  }
  const line = {
    event: "archive_run",
    trigger,
    now: new Date(nowMs).toISOString(),
    outcome: result.error !== null ? "failed" : result.ran ? "done" : "lease_held",
    days_archived: result.daysArchived,
    rows_deleted: result.rowsDeleted,
    duration_ms: durationMs,
    error: result.error,
  };
  (result.error === null ? console.log : console.error)(JSON.stringify(line));
  return result;
}

/**
 * The hourly catch-up run (src/jobs/nightly.ts): the job only if it has something to do, so an
 * idle hour costs one small read and leaves no run record and no log line (GET /admin/archive's
 * last run stays the last one that worked, or the nightly one). Answers undefined when idle. If
 * the check itself fails, the job runs anyway, so the failure is recorded as the job's own.
 */
export async function runArchiveIfPending(
  env: Env,
  nowMs: number,
): Promise<ArchiveRunResult | undefined> {
  const pending = await (async () => {
    const config = readArchiveConfig(env);
    const today = Math.floor(nowMs / MS_PER_DAY);
    return archiveWorkPending(
      ledgerDb(env.DB),
      today - config.ledgerRetentionDays,
      today - config.transactionIdRetentionDays,
    );
  })().catch(() => true);
  return pending ? runArchive(env, nowMs, "cron") : undefined;
}

class ArchiveJob {
  readonly #crashAt: ArchiveCrashPoint | undefined;

  constructor(
    readonly env: Env,
    readonly db: LedgerDb,
    readonly nowMs: number,
    readonly idRetentionDays: number,
    options: ArchiveOptions,
  ) {
    this.#crashAt = options.crashAt;
  }

  /** Throws the injected crash once, at its point, in the first day that reaches it. */
  #step(point: ArchiveCrashPoint): void {
    if (this.#crashAt !== point) return;
    throw new InjectedCrash(`injected crash after ${point}`);
  }

  async run(beforeDay: number, deadlineMs: number, result: ArchiveRunResult): Promise<void> {
    for (;;) {
      if (Date.now() >= deadlineMs) return;
      const next = await nextArchiveDay(this.db, beforeDay);
      if (!next) return;
      const { day } = next;
      let status = next.status;
      if (status === undefined) {
        await this.#write(day);
        status = "written";
      }
      if (status === "written") {
        await this.#copyIds(day);
        this.#step("copy");
        await advanceDay(this.db, day, "written", "ids_copied", Date.now());
        status = "ids_copied";
      }
      if (status === "ids_copied") {
        for (;;) {
          const deleted = await deleteDayBatch(this.db, day);
          result.rowsDeleted += deleted;
          if (deleted === 0) break;
          this.#step("delete");
          if (Date.now() >= deadlineMs) return;
        }
        if (await advanceDay(this.db, day, "ids_copied", "archived", Date.now()))
          result.daysArchived += 1;
      }
    }
  }

  /** Step 1: every part and the manifest in R2, each read back and equal to D1's rows. */
  async #write(day: number): Promise<void> {
    const parts: PartRecord[] = [];
    const totals = new PlayerTotals();
    const { fromMs, toMs } = dayRange(day);

    // Entries: the day's lines, cut into parts by the same rule every run. The pending lines are
    // cut when a part's worth has come; the last, unfinished part waits for the next page.
    let entryRows = 0;
    let pending: string[] = [];
    const flush = async (final: boolean) => {
      const cut = splitParts(pending, PART_MAX_ROWS, PART_MAX_BYTES);
      pending = final ? [] : (cut.pop() ?? []);
      for (const lines of cut) parts.push(await this.#putPart(day, "entries", parts, lines));
    };
    for await (const page of exportPages(this.db, fromMs, toMs)) {
      totals.add(page);
      entryRows += page.length;
      pending.push(...page.map(entryLine));
      if (pending.length > PART_MAX_ROWS) await flush(false);
    }
    await flush(true);
    const idRows = await this.#putRows(day, "ids", parts, dayIdRows(this.db, day), idRowCodec.line);
    const cancellationRows = await this.#putRows(
      day,
      "cancellations",
      parts,
      dayCancellationRows(this.db, day),
      cancellationRowCodec.line,
    );
    this.#step("verify");

    const report = await dailyTotals(this.db, fromMs, toMs);
    const manifest: Manifest = {
      format: "edge-wallet-ledger-archive",
      version: ARCHIVE_FORMAT_VERSION,
      day: dayText(day),
      from_ms: fromMs,
      to_ms: toMs,
      parts,
      players: totals.list(),
      daily_report: report.map(reportRow),
    };
    const stored = await this.#putManifest(day, manifest);
    await recordWrittenDay(
      this.db,
      {
        day,
        parts: parts.length,
        entryRows,
        idRows,
        cancellationRows,
        bytes: parts.reduce((sum, part) => sum + part.bytes, stored.bytes),
        manifestSha256: stored.sha256,
      },
      report,
      Date.now(),
    );
  }

  /**
   * Id rows or cancellations: lines of a bounded size, cut by rows only, so that an id row whose
   * status changed since an earlier run (a later cancel) still falls in the same part.
   */
  async #putRows<Row>(
    day: number,
    kind: PartKind,
    parts: PartRecord[],
    pages: AsyncGenerator<Row[]>,
    line: (row: Row) => string,
  ): Promise<number> {
    let rows = 0;
    let lines: string[] = [];
    for await (const page of pages) {
      rows += page.length;
      lines.push(...page.map(line));
      while (lines.length >= PART_MAX_ROWS) {
        parts.push(await this.#putPart(day, kind, parts, lines.slice(0, PART_MAX_ROWS)));
        lines = lines.slice(PART_MAX_ROWS);
      }
    }
    if (lines.length > 0) parts.push(await this.#putPart(day, kind, parts, lines));
    return rows;
  }

  /**
   * Writes one part if its key is free, then reads it back: its bytes must hash to what was put,
   * and its lines must be D1's rows. A copy left by an earlier run is accepted only if its lines
   * are D1's rows (an id row may since have been cancelled); any other copy stops the day.
   */
  async #putPart(
    day: number,
    kind: PartKind,
    done: readonly PartRecord[],
    lines: string[],
  ): Promise<PartRecord> {
    const index = done.filter((part) => part.kind === kind).length;
    const key = partKey(day, kind, index);
    const bucket = this.env.LEDGER_ARCHIVE;
    const packed = await gzip(ndjson(lines));
    const put = await bucket.put(key, packed, { onlyIf: { etagDoesNotMatch: "*" } });
    if (index === 0 && kind === "entries") this.#step("put");
    const stored = await bucket.get(key);
    if (!stored) throw new Error(`${key}: not found when read back`);
    const bytes = new Uint8Array(await stored.arrayBuffer());
    const sha256 = await sha256Hex(bytes);
    if (put && sha256 !== (await sha256Hex(packed)))
      throw new Error(`${key}: read back with another digest than was written`);
    const storedLines = ndjsonLines(await gunzip(bytes));
    if (!sameLines(kind, storedLines, lines))
      throw new Error(
        `${key}: R2 holds other rows than D1 (${storedLines.length} lines, D1 ${lines.length})`,
      );
    return { key, kind, rows: lines.length, bytes: bytes.length, sha256 };
  }

  /** The manifest, written if absent; an existing one is accepted if it says the same. */
  async #putManifest(day: number, manifest: Manifest): Promise<{ bytes: number; sha256: string }> {
    const key = manifestKey(day);
    const bucket = this.env.LEDGER_ARCHIVE;
    const text = manifestText(manifest);
    await bucket.put(key, text, {
      onlyIf: { etagDoesNotMatch: "*" },
      httpMetadata: { contentType: "application/json" },
    });
    const stored = await bucket.get(key);
    if (!stored) throw new Error(`${key}: not found when read back`);
    const bytes = new Uint8Array(await stored.arrayBuffer());
    const storedManifest = parseManifest(new TextDecoder().decode(bytes));
    if (JSON.stringify(storedManifest) !== JSON.stringify(manifest))
      throw new Error(`${key}: R2 holds another manifest for the day`);
    return { bytes: bytes.length, sha256: await sha256Hex(bytes) };
  }

  /** Step 2: every id of the day into its player's object; then the day's cancellations. */
  async #copyIds(day: number): Promise<void> {
    const forgetBeforeMs = this.nowMs - this.idRetentionDays * MS_PER_DAY;
    for await (const page of dayIdRows(this.db, day)) {
      const byPlayer = new Map<string, ArchivedId[]>();
      for (const { createdAtMs, ...known } of page) {
        if (known.playerId === null) continue;
        const ids = byPlayer.get(known.playerId) ?? [];
        ids.push({ known, createdAtMs });
        byPlayer.set(known.playerId, ids);
      }
      await Promise.all(
        [...byPlayer].map(async ([playerId, ids]) => {
          for (let start = 0; start < ids.length; start += IDS_PER_CALL) {
            await playerWallet(this.env, playerId).archiveIds(
              ids.slice(start, start + IDS_PER_CALL),
              forgetBeforeMs,
            );
          }
        }),
      );
    }
    for await (const page of dayCancellationRows(this.db, day)) {
      const byPlayer = new Map<string, string[]>();
      for (const row of page) {
        if (row.playerId === null || row.outcome !== "reversed") continue;
        byPlayer.set(row.playerId, [...(byPlayer.get(row.playerId) ?? []), row.transactionId]);
      }
      await Promise.all(
        [...byPlayer].map(([playerId, ids]) =>
          playerWallet(this.env, playerId).archiveCancellations(ids),
        ),
      );
    }
  }
}

/**
 * Are a part's stored lines the rows D1 holds? Exactly, except that an id row stored as applied may
 * since have been cancelled in D1 (its cancellation is archived with the day of the cancel).
 */
function sameLines(kind: PartKind, stored: string[], fresh: string[]): boolean {
  if (stored.length !== fresh.length) return false;
  return stored.every((line, n) => {
    const other = fresh[n];
    if (line === other) return true;
    if (kind !== "ids" || other === undefined) return false;
    const was = idRowCodec.parse(line);
    const now = idRowCodec.parse(other);
    return (
      was.status === "applied" &&
      now.status === "cancelled" &&
      idRowCodec.line({ ...was, status: "cancelled" }) === other
    );
  });
}
