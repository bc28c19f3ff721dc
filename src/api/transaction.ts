import { ledgerDb } from "../ledger/db";
import { commitWrites, findTransaction, isConstraintError } from "../ledger/transactions";
import { formatMinor } from "../money";
import type { TransactionOp } from "../wallet/decide";
import { playerWallet, type WalletAnswer } from "../wallet/player-wallet";
import { jsonResponse, moneyText, parseJsonBody, unknownFieldsJson } from "./json";
import type { ApiRequest } from "./request";
import { CancelRequest, parseWith, TransactionRequest } from "./schemas";
import { moneyNumber, settled } from "./views";

const INTERPRETED_FIELDS = ["player_id", "transaction_id", "transaction_type", "amount", "currency"] as const;

/**
 * A transaction request as the player's object takes it: `body` is `request` (the parsed body or
 * batch item) validated; the fields it does not interpret are the metadata, taken from `request`
 * itself, not from zod's copy (which drops a `__proto__` key), so that they stay exactly as sent.
 */
export function transactionOp(request: object, body: TransactionRequest, batchId?: string): TransactionOp {
  const { player_id, transaction_id, transaction_type, amount, currency } = body;
  const metadata = unknownFieldsJson(request, INTERPRETED_FIELDS);
  return {
    transactionId: transaction_id,
    playerId: player_id,
    type: transaction_type,
    amount,
    ...(currency ? { currency } : {}),
    ...(batchId ? { batchId } : {}),
    metadata,
  };
}

/** POST /wallet/transaction: a Debit, Credit or None, applied exactly once. */
export async function transaction(request: ApiRequest, env: Env): Promise<Response> {
  const item = moneyText(parseJsonBody(request.bodyBytes), "amount");
  const op = transactionOp(Object(item), parseWith(TransactionRequest, item));
  Object.assign(request.log, { player_id: op.playerId, transaction_id: op.transactionId });
  const answer = await playerWallet(env, op.playerId).transact(op, { acceptZeroValueCredits: request.config.acceptZeroValueCredits });
  const { balanceMinor, currency } = settled(answer);
  return jsonResponse(200, { transaction_id: op.transactionId, balance: moneyNumber(balanceMinor, currency), currency });
}

/** A cancel of an id no player owns: remembered, and answered with balance "0" (the spec's choice). */
export const ORPHAN_CANCEL = { kind: "orphan" } as const;
export type CancelAnswer = WalletAnswer | typeof ORPHAN_CANCEL;

/**
 * Cancels one transaction id. Without a player id, D1 says who owns the id; if nobody does, a
 * tombstone is inserted, and if that insert loses the race with the original, we look again.
 */
export async function cancelTransaction(
  env: Env,
  transactionId: string,
  playerId: string | undefined,
  batchId?: string,
): Promise<CancelAnswer> {
  const extra = batchId ? { batchId } : {};
  if (playerId) return playerWallet(env, playerId).cancel({ transactionId, playerId, ...extra });
  const db = ledgerDb(env.DB);
  for (let attempt = 1; attempt <= 2; attempt++) {
    const known = await findTransaction(db, transactionId);
    if (known?.playerId) return playerWallet(env, known.playerId).cancel({ transactionId, playerId: known.playerId, ...extra });
    if (known) return ORPHAN_CANCEL;
    try {
      await commitWrites(db, [{ kind: "tombstone", transactionId, playerId: null, batchId: batchId ?? null }]);
      return ORPHAN_CANCEL;
    } catch (error) {
      if (!isConstraintError(error)) throw error;
    }
  }
  return { kind: "unavailable", message: "the transaction id changed owner twice; retry" };
}

/** The spec answers cancels with the balance as a decimal string. */
export function cancelBalanceText(answer: CancelAnswer): string {
  if (answer.kind === "orphan") return "0";
  const { balanceMinor, currency } = settled(answer);
  return formatMinor(balanceMinor, currency);
}

/** DELETE /wallet/cancel: reverses a Debit or Credit at most once. */
export async function cancel(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(CancelRequest, parseJsonBody(request.bodyBytes));
  Object.assign(request.log, { transaction_id: body.transaction_id, player_id: body.player_id ?? undefined });
  const answer = await cancelTransaction(env, body.transaction_id, body.player_id ?? undefined);
  return jsonResponse(200, { balance: cancelBalanceText(answer) });
}
