import type { RecordedRefusal } from "../ledger/writes";
import type { MinorUnits } from "../money";

// The codes the wallet refuses with: its own words. api/error-rules.ts gives each its HTTP status,
// retry and cancel advice (api/errors.ts fails to compile if one of these has no rule there).
export const REFUSAL_CODES = [
  "INVALID_REQUEST",
  "CURRENCY_MISMATCH",
  "INSUFFICIENT_FUNDS",
  "PLAYER_NOT_FOUND",
  "DUPLICATE_TRANSACTION",
  "TRANSACTION_CANCELLED",
  // The operator's player status (admin API): who may play, and who may receive transfers.
  "PLAYER_SUSPENDED",
  "PLAYER_CLOSED",
  "BALANCE_NOT_ZERO",
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

export function isRefusalCode(code: string): code is RefusalCode {
  return (REFUSAL_CODES as readonly string[]).includes(code);
}

export interface Refusal extends RecordedRefusal {
  code: RefusalCode;
  message: string;
  balanceMinor?: MinorUnits;
}
