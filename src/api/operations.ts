import type { TransactionOp } from "../wallet/decide";
import { unknownFieldsJson } from "./json";
import type { TransactionRequest } from "./schemas";

// A request as the player's object takes it: shared by the single and the batch handlers.

const INTERPRETED_FIELDS = [
  "player_id",
  "transaction_id",
  "transaction_type",
  "amount",
  "currency",
] as const;

/**
 * A transaction request as the player's object takes it: `body` is `request` (the parsed body or
 * batch item) validated; the fields it does not interpret are the metadata, taken from `request`
 * itself, not from zod's copy (which drops a `__proto__` key), so that they stay exactly as sent.
 */
export function transactionOp(
  request: object,
  body: TransactionRequest,
  batchId?: string,
): TransactionOp {
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
