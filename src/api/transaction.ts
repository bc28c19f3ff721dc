import { rulesOf } from "../wallet/decide";
import { cancelTransaction } from "../wallet/cancel";
import { playerWallet } from "../wallet/player-wallet";
import { jsonResponse, moneyText, parseJsonBody } from "./json";
import { transactionOp } from "./operations";
import type { ApiRequest } from "./request";
import { CancelRequest, parseWith, TransactionRequest } from "./schemas";
import { cancelBalanceText, moneyNumber, settled } from "./views";

/** POST /wallet/transaction: a Debit, Credit or None, applied exactly once. */
export async function transaction(request: ApiRequest, env: Env): Promise<Response> {
  const item = moneyText(parseJsonBody(request.bodyBytes), "amount");
  const op = transactionOp(Object(item), parseWith(TransactionRequest, item));
  Object.assign(request.log, { player_id: op.playerId, transaction_id: op.transactionId });
  const answer = await playerWallet(env, op.playerId).transact(
    op,
    rulesOf(request.config),
    request.scope,
  );
  const { balanceMinor, currency } = settled(answer);
  return jsonResponse(200, {
    transaction_id: op.transactionId,
    balance: moneyNumber(balanceMinor, currency),
    currency,
  });
}

/** DELETE /wallet/cancel: reverses a Debit or Credit at most once. */
export async function cancel(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(CancelRequest, parseJsonBody(request.bodyBytes));
  Object.assign(request.log, {
    transaction_id: body.transaction_id,
    player_id: body.player_id ?? undefined,
  });
  const answer = await cancelTransaction(
    env,
    request.scope,
    body.transaction_id,
    body.player_id ?? undefined,
  );
  return jsonResponse(200, { balance: cancelBalanceText(answer) });
}
