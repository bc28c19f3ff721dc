import { inScope, reachesEveryBrand, type BrandScope } from "../auth/brands";
import { ledgerDb } from "../ledger/db";
import { brandsOfPlayers } from "../ledger/players";
import { canonicalDecimal, formatMinor, type MinorUnits } from "../money";
import {
  type BatchTransaction,
  cancelTransaction,
  isPlayerNotFound,
  itemsOfBatch,
  ORPHAN_CANCEL,
  ownersOf,
  type CancelAnswer,
} from "../wallet/cancel";
import { rulesOf, type TransactionOp } from "../wallet/decide";
import { playerWallet, type WalletAnswer } from "../wallet/player-wallet";
import { ApiError } from "./errors";
import { jsonResponse, moneyText, parseJsonBody } from "./json";
import type { ApiRequest } from "./request";
import { CancelBatchRequest, parseWith, TransactionBatchRequest } from "./schemas";
import { transactionOp } from "./operations";
import { moneyNumber } from "./views";

/** A bare JSON array is accepted as the items of a batch without a batch_id. */
function batchBody(bytes: Uint8Array): unknown {
  const value = parseJsonBody(bytes);
  return Array.isArray(value) ? { transactions: value } : value;
}

// MAX_BATCH_SIZE bounds one request's work: every item is one D1 write, and ThrillGate gives
// the whole request 10 s before it times out and retries.
function requireBatchSize(items: number, maxBatchSize: number): void {
  if (items > maxBatchSize)
    throw new ApiError(
      "INVALID_REQUEST",
      `a batch holds at most ${maxBatchSize} items, not ${items}`,
    );
}

/**
 * One id twice with different content is a whole-batch error: nothing is applied. A missing
 * currency means the player's, which only the player's object knows: there, an item without
 * currency whose twin names another one is refused alone, as DUPLICATE_TRANSACTION.
 */
function refuseConflictingDuplicates(ops: TransactionOp[]): void {
  const seen = new Map<string, { content: string; currency?: string }>();
  for (const op of ops) {
    const content = JSON.stringify([op.playerId, op.type, canonicalDecimal(op.amount)]);
    const earlier = seen.get(op.transactionId);
    if (
      earlier &&
      (earlier.content !== content ||
        (earlier.currency && op.currency && earlier.currency !== op.currency))
    ) {
      throw new ApiError(
        "DUPLICATE_TRANSACTION",
        `transaction ${op.transactionId} appears twice with different content`,
      );
    }
    seen.set(op.transactionId, { content, currency: earlier?.currency ?? op.currency });
  }
}

/**
 * A batch that names a player of a brand its key may not reach is refused whole, before anything
 * is applied. (Each player's object checks again: a player created meanwhile is refused there.)
 * Without brand keys every player is reachable, and no query is made.
 */
async function requireReachablePlayers(
  env: Env,
  scope: BrandScope,
  playerIds: string[],
): Promise<void> {
  if (reachesEveryBrand(scope) || playerIds.length === 0) return;
  const brands = await brandsOfPlayers(ledgerDb(env.DB), [...new Set(playerIds)]);
  for (const [playerId, brandId] of brands) {
    if (!inScope(scope, brandId))
      throw new ApiError(
        "PLAYER_NOT_FOUND",
        `no player ${playerId}; nothing of the batch was applied`,
      );
  }
}

/**
 * Sends each player's items to its object in one call (all players in parallel), and puts the
 * answers back in request order.
 */
async function byPlayer<Op extends { playerId: string }>(
  ops: Op[],
  call: (playerId: string, group: Op[]) => Promise<WalletAnswer[]>,
): Promise<WalletAnswer[]> {
  const groups = new Map<string, { index: number; op: Op }[]>();
  ops.forEach((op, index) => {
    const group = groups.get(op.playerId) ?? [];
    group.push({ index, op });
    groups.set(op.playerId, group);
  });
  const answers: WalletAnswer[] = new Array(ops.length);
  await Promise.all(
    [...groups].map(async ([playerId, group]) => {
      const groupAnswers = await call(
        playerId,
        group.map((item) => item.op),
      );
      for (const [k, item] of group.entries()) answers[item.index] = answerAt(groupAnswers, k);
    }),
  );
  return answers;
}

// A fault on any item makes the whole batch a 503: a retry is safe, since the items that were
// applied answer the same again, and ThrillGate retries 5xx answers but not per-item errors.
function refuseIfUnavailable(answers: CancelAnswer[]): void {
  if (answers.some((answer) => answer.kind === "unavailable")) {
    throw new ApiError(
      "UNAVAILABLE",
      "the ledger did not accept some items; retry the batch (applied items answer the same)",
    );
  }
}

/** A batch's outcome for the log line: how many items ended in each status or error code. */
function logOutcome(
  request: ApiRequest,
  batchId: string | undefined,
  results: { status: string; error?: { code: string } }[],
): void {
  const counts = new Map<string, number>();
  for (const result of results) {
    const key = result.error?.code ?? result.status;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  Object.assign(request.log, {
    batch_id: batchId,
    items: results.length,
    outcome: [...counts].map(([key, count]) => `${key}:${count}`).join(" "),
  });
}

function answerAt<A>(answers: A[], index: number): A {
  const answer = answers[index];
  if (answer === undefined) throw new Error(`no answer for batch item ${index}`);
  return answer;
}

function itemOutcome(
  answer: CancelAnswer,
  balance: (minor: MinorUnits, currency: string) => unknown,
) {
  switch (answer.kind) {
    case "ok":
      return { status: "OK", balance: balance(answer.balanceMinor, answer.currency) };
    case "orphan":
      return { status: "OK", balance: "0" };
    case "refused": {
      const { code, message, balanceMinor } = answer.refusal;
      const withBalance =
        balanceMinor !== undefined && answer.currency !== null
          ? { balance: balance(balanceMinor, answer.currency) }
          : {};
      return { status: "ERROR", error: { code, message }, ...withBalance };
    }
    case "unavailable":
      return { status: "ERROR", error: { code: "UNAVAILABLE", message: answer.message } };
  }
}

/** POST /wallet/transaction/batch */
export async function transactionBatch(request: ApiRequest, env: Env): Promise<Response> {
  const raw = batchBody(request.bodyBytes);
  const rawItems: unknown[] =
    raw !== null &&
    typeof raw === "object" &&
    "transactions" in raw &&
    Array.isArray(raw.transactions)
      ? raw.transactions
      : [];
  for (const item of rawItems) moneyText(item, "amount");
  const body = parseWith(TransactionBatchRequest, raw);
  requireBatchSize(body.transactions.length, request.config.maxBatchSize);
  const batchId = body.batch_id ?? undefined;
  const ops = body.transactions.map((item, i) => transactionOp(Object(rawItems[i]), item, batchId));
  refuseConflictingDuplicates(ops);
  await requireReachablePlayers(
    env,
    request.scope,
    ops.map((op) => op.playerId),
  );
  const rules = rulesOf(request.config);
  const answers = await byPlayer(ops, (playerId, group) =>
    playerWallet(env, playerId).transactBatch(group, rules, request.scope),
  );
  refuseIfUnavailable(answers);
  const results = ops.map((op, i) => ({
    transaction_id: op.transactionId,
    player_id: op.playerId,
    ...itemOutcome(answerAt(answers, i), moneyNumber),
  }));
  logOutcome(request, batchId, results);
  return jsonResponse(200, { ...(batchId ? { batch_id: batchId } : {}), results });
}

/**
 * Cancels these items once each, in order: each player's items in one call to its object (all
 * players in parallel), ids nobody owns tombstoned. Answers in item order; a 503 if any item could
 * not be written (the retry is safe: what was written answers the same).
 */
async function cancelItems(
  env: Env,
  scope: BrandScope,
  items: {
    transactionId: string;
    playerId?: string | undefined;
    /** What D1 knew of the id (a batch_id's items): see PlayerWallet.cancelBatch. */
    settled?: BatchTransaction;
  }[],
  batchId: string | undefined,
): Promise<CancelAnswer[]> {
  const owners = await ownersOf(
    env,
    items.filter((item) => !item.playerId).map((item) => item.transactionId),
  );
  const resolved = items.map((item) => ({
    ...item,
    playerId: item.playerId ?? owners.get(item.transactionId),
  }));
  const owned = resolved.flatMap((item, index) =>
    item.playerId
      ? [
          {
            index,
            op: {
              transactionId: item.transactionId,
              playerId: item.playerId,
              ...(batchId ? { batchId } : {}),
              ...(item.settled ? { settled: item.settled } : {}),
            },
          },
        ]
      : [],
  );

  const answers: CancelAnswer[] = new Array(items.length);
  const ownedAnswers = await byPlayer(
    owned.map((item) => item.op),
    (playerId, group) => playerWallet(env, playerId).cancelBatch(group, scope),
  );
  for (const [k, item] of owned.entries()) {
    const answer = answerAt(ownedAnswers, k);
    // An id another brand's player owns, found through D1 (the item named no player): answered as
    // an unknown id is, and nothing of that brand changes.
    const foreign = items[item.index]?.playerId === undefined && isPlayerNotFound(answer);
    answers[item.index] = foreign ? ORPHAN_CANCEL : answer;
  }
  // Ids nobody owns: tombstones, each settled as a single cancel would be (it handles the race).
  await Promise.all(
    resolved.map(async (item, index) => {
      if (!item.playerId)
        answers[index] = await cancelTransaction(
          env,
          scope,
          item.transactionId,
          undefined,
          batchId,
        );
    }),
  );
  refuseIfUnavailable(answers);
  return answers;
}

const stillApplied = (item: BatchTransaction) => item.status === "applied";

/**
 * A cancel by batch_id alone: every item of the batch, the last applied first (itemsOfBatch), in
 * pages of MAX_BATCH_SIZE, page after page while the call is inside BATCH_CANCEL_BUDGET_MS. A 200
 * therefore always means the whole batch is undone: each item reversed, or answered as a single
 * cancel would answer it (already cancelled, never applied, or refused with its reason).
 *
 * Out of budget with items still applied, the call answers 503 UNAVAILABLE: the pages it did are
 * committed, ThrillGate retries it (its default rules retry every 5xx), and the retry goes through
 * the same list again: the items already reversed are answered from what it read of them (no
 * write, no D1 round trip: PlayerWallet.cancelBatch), and it goes on from where this call stopped.
 * The budget is only checked after a page that reversed something, so every call undoes at least
 * one page and a retry always gets further.
 */
async function cancelWholeBatch(request: ApiRequest, env: Env, batchId: string) {
  const startedMs = Date.now();
  const { maxBatchSize, batchCancelBudgetMs } = request.config;
  const items = await itemsOfBatch(env, request.scope, batchId);
  const answers: CancelAnswer[] = [];
  let reversed = 0;
  for (let start = 0; start < items.length; start += maxBatchSize) {
    const remaining = items.slice(start).filter(stillApplied).length;
    Object.assign(request.log, { batch_id: batchId, items: start, reversed, remaining });
    if (remaining > 0 && reversed > 0 && Date.now() - startedMs >= batchCancelBudgetMs) {
      throw new ApiError(
        "UNAVAILABLE",
        `batch ${batchId}: ${reversed} items reversed in this call's time budget, ${remaining} of its ${items.length} items remain applied; retry to continue (reversed items answer the same)`,
      );
    }
    const page = items.slice(start, start + maxBatchSize);
    const pageAnswers = await cancelItems(
      env,
      request.scope,
      page.map((item) => ({ ...item, settled: stillApplied(item) ? undefined : item })),
      batchId,
    );
    answers.push(...pageAnswers);
    // Applied when read and answered OK: reversed now (or by a concurrent cancel just before).
    reversed += page.filter(
      (item, k) => stillApplied(item) && pageAnswers[k]?.kind === "ok",
    ).length;
  }
  const results = items.map((item, i) => ({
    transaction_id: item.transactionId,
    ...itemOutcome(answerAt(answers, i), formatMinor),
  }));
  logOutcome(request, batchId, results);
  Object.assign(request.log, {
    reversed,
    // Items whose cancel was refused (their reason is in the results) stay applied.
    remaining: items.filter((item, i) => stillApplied(item) && results[i]?.status !== "OK").length,
  });
  return jsonResponse(200, { batch_id: batchId, results });
}

/** DELETE /wallet/transaction/batch: each listed id cancelled once, or the whole of a `batch_id` (cancelWholeBatch). */
export async function cancelBatch(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(CancelBatchRequest, batchBody(request.bodyBytes));
  const batchId = body.batch_id ?? undefined;
  const listed =
    body.transactions?.map((item) => ({
      transactionId: item.transaction_id,
      playerId: item.player_id ?? undefined,
    })) ?? [];
  if (listed.length === 0) return cancelWholeBatch(request, env, batchId ?? "");
  requireBatchSize(listed.length, request.config.maxBatchSize);
  await requireReachablePlayers(
    env,
    request.scope,
    listed.flatMap((item) => (item.playerId ? [item.playerId] : [])),
  );
  const answers = await cancelItems(env, request.scope, listed, batchId);
  const results = listed.map((item, i) => ({
    transaction_id: item.transactionId,
    ...itemOutcome(answerAt(answers, i), formatMinor),
  }));
  logOutcome(request, batchId, results);
  return jsonResponse(200, { ...(batchId ? { batch_id: batchId } : {}), results });
}
