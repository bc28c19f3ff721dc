import type { TransferOp } from "../wallet/decide";
import { playerWallet } from "../wallet/player-wallet";
import { jsonResponse, moneyText, parseJsonBody, unknownFieldsJson } from "./json";
import type { ApiRequest } from "./request";
import { parseWith, PlayerPath, TransferRequest } from "./schemas";
import { moneyNumber, settled } from "./views";

// The fields a transfer interprets; `reason` and every other field are kept as its metadata.
const INTERPRETED_FIELDS = ["transfer_id", "direction", "amount"] as const;

/**
 * POST /admin/players/:player_id/transfers: the operator moves money into or out of the player's
 * wallet, decided in the player's object with its other operations and applied exactly once.
 */
export async function transfer(request: ApiRequest, env: Env): Promise<Response> {
  const { player_id: playerId } = parseWith(PlayerPath, { player_id: request.params.player_id });
  const item = moneyText(parseJsonBody(request.bodyBytes), "amount");
  const body = parseWith(TransferRequest, item);
  Object.assign(request.log, { player_id: playerId, transaction_id: body.transfer_id });
  const op: TransferOp = {
    transferId: body.transfer_id,
    playerId,
    direction: body.direction,
    amount: body.amount,
    // From the body as parsed, not zod's copy (which drops a `__proto__` key): kept as sent.
    metadata: unknownFieldsJson(Object(item), INTERPRETED_FIELDS),
  };
  const { balanceMinor, currency } = settled(await playerWallet(env, playerId).transfer(op));
  return jsonResponse(200, {
    transfer_id: op.transferId,
    direction: op.direction,
    balance: moneyNumber(balanceMinor, currency),
    currency,
  });
}
