import { ledgerDb } from "../ledger/db";
import { findPlayer, insertPlayer } from "../ledger/players";
import type { PlayerRow } from "../ledger/schema";
import { insertSession, newToken, revokeSessions } from "../ledger/sessions";
import { ledgerPage, type LedgerPageEntry } from "../ledger/transactions";
import { type TransactionHistory, transactionHistory } from "../ledger/lookup";
import { reconcile, type ReconcileReport } from "../ledger/reconcile";
import { lastRun, type ReconcileRun } from "../ledger/reconcile-runs";
import { archivedTotalsOf, archiveStatus, type ArchiveRunRow } from "../ledger/archive";
import { dayText } from "../ledger/archive-format";
import {
  archivedTransactionHistory,
  type ArchiveCheck,
  checkArchive,
} from "../ledger/archive-read";
import { runArchive } from "../jobs/archive";
import { disagreementsBody, logDisagreement, runReconciliation } from "../jobs/reconcile";
import { parseAmount } from "../money";
import { ApiError } from "./errors";
import { jsonResponse, moneyText, parseJsonBody } from "./json";
import type { ApiRequest } from "./request";
import {
  ArchiveRunRequest,
  CreatePlayerRequest,
  CreateSessionRequest,
  FaultRequest,
  LedgerQuery,
  parseWith,
  PlayerPath,
  PlayerStatusRequest,
  ReconcileQuery,
} from "./schemas";
import { faultsEnabled } from "../wallet/faults";
import { playerWallet } from "../wallet/player-wallet";
import { entryFigures, moneyNumber, playerProfile, settled } from "./views";

function playerBody(player: PlayerRow) {
  return {
    player_id: player.id,
    operator_id: player.operatorId,
    brand_id: player.brandId,
    currency: player.currency,
    balance: moneyNumber(player.balanceMinor, player.currency),
    ...playerProfile(player),
    status: player.status,
  };
}

function playerIdOf(request: ApiRequest): string {
  // Decoded by the router (api/url.ts); bounded like every id.
  const { player_id: playerId } = parseWith(PlayerPath, { player_id: request.params.player_id });
  request.log.player_id = playerId;
  return playerId;
}

async function existingPlayer(request: ApiRequest, env: Env): Promise<PlayerRow> {
  const playerId = playerIdOf(request);
  const player = await findPlayer(ledgerDb(env.DB), playerId);
  if (!player) throw new ApiError("PLAYER_NOT_FOUND", `no player ${playerId}`);
  return player;
}

/** POST /admin/players: creates a player with an opening balance. */
export async function createPlayer(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(
    CreatePlayerRequest,
    moneyText(parseJsonBody(request.bodyBytes), "balance"),
  );
  request.log.player_id = body.player_id;
  const opening = parseAmount(body.balance, body.currency);
  if (!opening.ok) throw new ApiError("INVALID_REQUEST", `balance: ${opening.reason}`);
  const player: PlayerRow = {
    id: body.player_id,
    operatorId: body.operator_id,
    brandId: body.brand_id,
    currency: body.currency,
    balanceMinor: opening.minor,
    openingBalanceMinor: opening.minor,
    status: "active",
    nickname: body.nickname ?? null,
    gender: body.gender ?? null,
    country: body.country ?? null,
    dateOfBirth: body.date_of_birth ?? null,
    jurisdiction: body.jurisdiction ?? null,
    segments: body.segments ?? [],
    createdAtMs: Date.now(),
  };
  if (!(await insertPlayer(ledgerDb(env.DB), player))) {
    throw new ApiError("PLAYER_EXISTS", `player ${body.player_id} already exists`);
  }
  return jsonResponse(201, playerBody(player));
}

/** GET /admin/players/:player_id */
export async function getPlayer(request: ApiRequest, env: Env): Promise<Response> {
  return jsonResponse(200, playerBody(await existingPlayer(request, env)));
}

/**
 * PATCH /admin/players/:player_id {"status"}: set by the player's object, in line with its other
 * operations: every operation before it was decided on the old status, every one after it on the
 * new one. Answers the player with the balance at that point.
 */
export async function setPlayerStatus(request: ApiRequest, env: Env): Promise<Response> {
  const { status } = parseWith(PlayerStatusRequest, parseJsonBody(request.bodyBytes));
  const playerId = playerIdOf(request);
  const { balanceMinor } = settled(
    await playerWallet(env, playerId).setStatus({ playerId, status }),
  );
  const player = await existingPlayer(request, env);
  return jsonResponse(200, playerBody({ ...player, balanceMinor, status }));
}

/** DELETE /admin/players/:player_id/sessions: no token of the player authenticates any more. */
export async function revokePlayerSessions(request: ApiRequest, env: Env): Promise<Response> {
  const player = await existingPlayer(request, env);
  const revoked = await revokeSessions(ledgerDb(env.DB), player.id, Date.now());
  return jsonResponse(200, { player_id: player.id, revoked });
}

/** POST /admin/players/:player_id/sessions: a launch token that /wallet/authenticate accepts. */
export async function createSession(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(
    CreateSessionRequest,
    request.bodyBytes.length ? parseJsonBody(request.bodyBytes) : {},
  );
  const player = await existingPlayer(request, env);
  const nowMs = Date.now();
  const expiresAtMs = nowMs + (body.ttl_seconds ?? request.config.tokenTtlSeconds) * 1000;
  const token = newToken();
  await insertSession(ledgerDb(env.DB), {
    token,
    playerId: player.id,
    operatorId: player.operatorId,
    brandId: player.brandId,
    currency: player.currency,
    sourceId: null,
    expiresAtMs,
    createdAtMs: nowMs,
  });
  return jsonResponse(201, {
    player_token: token,
    expires_at: new Date(expiresAtMs).toISOString(),
  });
}

function ledgerEntryBody(entry: LedgerPageEntry) {
  return {
    id: entry.id,
    ...entryFigures(entry),
    created_at: new Date(entry.createdAtMs).toISOString(),
  };
}

/** GET /admin/players/:player_id/ledger?limit=&before=: entries newest first; `next_before` pages on. */
export async function playerLedger(request: ApiRequest, env: Env): Promise<Response> {
  const query = parseWith(LedgerQuery, {
    limit: request.query.limit,
    before: request.query.before,
  });
  const player = await existingPlayer(request, env);
  const db = ledgerDb(env.DB);
  const entries = await ledgerPage(db, player.id, query.limit, query.before);
  const archived = await archivedTotalsOf(db, player.id);
  const last = entries.at(-1);
  return jsonResponse(200, {
    player_id: player.id,
    entries: entries.map(ledgerEntryBody),
    next_before: entries.length === query.limit && last ? last.id : null,
    // Where the live ledger starts: older entries are in the archive (docs/archive.md).
    archived: archived
      ? { entries: archived.entries, through_day: dayText(archived.throughDay) }
      : null,
  });
}

/**
 * GET /admin/transactions/:transaction_id: "what happened to transaction X?" for support. Its status
 * (applied, cancelled, refused with the code it was answered, tombstone), what it asked for, the
 * cancel that reversed or pre-empted it, and every ledger entry it caused. Amounts are read in the
 * owner's currency, as the wallet read them (a refused currency mismatch keeps the currency it named).
 */
export async function lookupTransaction(request: ApiRequest, env: Env): Promise<Response> {
  const transactionId = request.params.transaction_id ?? "";
  request.log.transaction_id = transactionId;
  const db = ledgerDb(env.DB);
  // An id of an archived day: its owner is in D1, the rest in R2 (docs/archive.md).
  const history: TransactionHistory | undefined =
    (await transactionHistory(db, transactionId)) ??
    (await archivedTransactionHistory(db, env.LEDGER_ARCHIVE, transactionId));
  if (!history)
    throw new ApiError("NOT_FOUND", `the wallet has never seen transaction ${transactionId}`);
  const { transaction, playerCurrency, cancellation, entries } = history;
  if (transaction.playerId !== null) request.log.player_id = transaction.playerId;
  const money = (minor: number | null) =>
    minor === null || playerCurrency === null ? null : moneyNumber(minor, playerCurrency);
  return jsonResponse(200, {
    transaction_id: transaction.transactionId,
    status: transaction.status,
    player_id: transaction.playerId,
    type: transaction.type,
    amount: money(transaction.amountMinor),
    currency: transaction.currency,
    batch_id: transaction.batchId,
    created_at: new Date(transaction.createdAtMs).toISOString(),
    refusal:
      transaction.status === "refused"
        ? {
            code: transaction.refusalCode,
            message: transaction.refusalMessage,
            balance: money(transaction.refusalBalanceMinor),
          }
        : null,
    cancel: cancellation
      ? {
          outcome: cancellation.outcome,
          batch_id: cancellation.batchId,
          created_at: new Date(cancellation.createdAtMs).toISOString(),
        }
      : null,
    entries: entries.map(ledgerEntryBody),
    archived_day: history.archivedDay === undefined ? null : dayText(history.archivedDay),
  });
}

function reportBody(report: ReconcileReport, archive?: ArchiveCheck) {
  return {
    ok: report.ok && (archive?.problems.length ?? 0) === 0,
    players_checked: report.playersChecked,
    transactions_checked: report.transactionsChecked,
    transfers_checked: report.transfersChecked,
    ...disagreementsBody(report),
    archive: archive
      ? {
          days_checked: archive.daysChecked,
          parts_checked: archive.partsChecked,
          entries_checked: archive.entriesChecked,
          problems: archive.problems,
        }
      : null,
  };
}

function runBody(run: ReconcileRun) {
  return {
    id: run.id,
    trigger: run.trigger,
    started_at: new Date(run.startedAtMs).toISOString(),
    duration_ms: run.durationMs,
    disagreements: run.disagreements,
    ...reportBody(run.report),
  };
}

/**
 * GET /admin/reconcile: invariant 5 for every player; `ok` is false if anything disagrees. A read:
 * it records nothing (POST /admin/reconcile/run does), but a disagreement is logged all the same.
 */
export async function reconcileLedger(request: ApiRequest, env: Env): Promise<Response> {
  const query = parseWith(ReconcileQuery, { archive: request.query.archive });
  const startedAtMs = Date.now();
  const db = ledgerDb(env.DB);
  const report = await reconcile(db);
  logDisagreement(report, "manual", startedAtMs);
  // ?archive=true: also re-read every archived part in R2 (docs/archive.md).
  const archive = query.archive ? await checkArchive(db, env.LEDGER_ARCHIVE) : undefined;
  if (archive && archive.problems.length > 0)
    console.error(JSON.stringify({ event: "archive_check_failed", problems: archive.problems }));
  return jsonResponse(200, reportBody(report, archive));
}

/** POST /admin/reconcile/run: reconciles as the nightly job does, and records the run as manual. */
export async function runReconcile(_request: ApiRequest, env: Env): Promise<Response> {
  return jsonResponse(201, runBody(await runReconciliation(env, "manual")));
}

/** GET /admin/reconcile/last: the run that started last, nightly or manual. */
export async function lastReconcile(_request: ApiRequest, env: Env): Promise<Response> {
  const run = await lastRun(ledgerDb(env.DB));
  if (!run) throw new ApiError("NOT_FOUND", "no reconciliation run is recorded yet");
  return jsonResponse(200, runBody(run));
}

/** POST /admin/faults: arms faults in one player's object. Exists only with FAULT_INJECTION=enabled. */
export async function injectFaults(request: ApiRequest, env: Env): Promise<Response> {
  if (!faultsEnabled(env)) throw new ApiError("NOT_FOUND", "no such route");
  const body = parseWith(FaultRequest, parseJsonBody(request.bodyBytes));
  request.log.player_id = body.player_id;
  await playerWallet(env, body.player_id).injectFaults({
    failNextWrites: body.fail_next_writes ?? 0,
    loseNextAnswers: body.lose_next_answers ?? 0,
    restart: body.restart ?? false,
  });
  return jsonResponse(200, { armed: body });
}

function archiveRunBody(run: ArchiveRunRow) {
  return {
    id: run.id,
    trigger: run.trigger,
    now: new Date(run.nowMs).toISOString(),
    started_at: new Date(run.startedAtMs).toISOString(),
    duration_ms: run.durationMs,
    days_archived: run.daysArchived,
    rows_deleted: run.rowsDeleted,
    error: run.error,
  };
}

/** GET /admin/archive: the days archived (or on their way), the last run and the last failed one. */
export async function getArchiveStatus(_request: ApiRequest, env: Env): Promise<Response> {
  const { days, lastRun, lastError } = await archiveStatus(ledgerDb(env.DB));
  return jsonResponse(200, {
    days: days.map((day) => ({
      date: dayText(day.day),
      status: day.status,
      parts: day.parts,
      entry_rows: day.entryRows,
      id_rows: day.idRows,
      cancellation_rows: day.cancellationRows,
      bytes: day.bytes,
      manifest_sha256: day.manifestSha256,
    })),
    last_run: lastRun ? archiveRunBody(lastRun) : null,
    last_error: lastError ? archiveRunBody(lastError) : null,
  });
}

/**
 * POST /admin/archive/run: the archive job, now, as the Cron Trigger runs it. Its "now" is the
 * clock: a time of the caller's choosing (and a crash point) is taken only where faults may be
 * injected, so no request can move a deployment's archive clock.
 */
export async function runArchiveNow(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(ArchiveRunRequest, parseJsonBody(request.bodyBytes));
  if ((body.now !== undefined || body.crash_at !== undefined) && !faultsEnabled(env))
    throw new ApiError(
      "INVALID_REQUEST",
      "now and crash_at are accepted only with FAULT_INJECTION",
    );
  const nowMs = body.now === undefined ? Date.now() : Date.parse(body.now);
  const result = await runArchive(env, nowMs, "manual", { crashAt: body.crash_at });
  return jsonResponse(200, {
    ran: result.ran,
    days_archived: result.daysArchived,
    rows_deleted: result.rowsDeleted,
    error: result.error,
  });
}
