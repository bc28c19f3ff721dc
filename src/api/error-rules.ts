// Every error code the wallet can answer, in one table: its HTTP status, and what ThrillGate
// should do after it. ThrillGate's error_response_rules match "<status>:<code>" and default to
// must_retry and must_cancel both true; `npm run thrillgate-config` turns this table into the
// rules an operator registers, and ERROR_STATUS (errors.ts) is derived from it.
//
// retry: can sending the same request again get another answer? Every answer is safe to receive
//   again, so a retry never harms; it only wastes time when the refusal is final.
// cancel: after a failed Debit, should ThrillGate send DELETE /wallet/cancel? Only where the wallet
//   cannot say whether the Debit was applied (a 5xx: committed whole or not at all, unknown which).
//   A 4xx refusal applied nothing and never will (a later copy gets the same refusal), so a cancel
//   is not needed; after DUPLICATE_TRANSACTION it would be wrong: the id belongs to the transaction
//   that was applied, and the cancel would reverse it. (Credits are never cancelled.)
// This file has no imports and no runtime-only syntax, so the Node scripts can read it as it is.

export interface ErrorRule {
  readonly status: number;
  readonly retry: boolean;
  readonly cancel: boolean;
}

export const ERROR_RULES = {
  INVALID_REQUEST: { status: 400, retry: false, cancel: false },
  CURRENCY_MISMATCH: { status: 400, retry: false, cancel: false },
  // Only a fix of the key on one side helps; the cancel would be refused the same way.
  INVALID_SIGNATURE: { status: 401, retry: false, cancel: false },
  INVALID_TOKEN: { status: 401, retry: false, cancel: false },
  UNAUTHORIZED: { status: 401, retry: false, cancel: false },
  // Recorded with the id: a retry answers the same refusal even if the money is there by then.
  INSUFFICIENT_FUNDS: { status: 402, retry: false, cancel: false },
  // ALLOWED_SOURCE_IPS refused the caller before the body was read: nothing was applied.
  FORBIDDEN: { status: 403, retry: false, cancel: false },
  // The operator suspended or closed the player: a Debit is refused before anything is applied,
  // and recorded with its id, so a retry answers the same even after the player is active again.
  PLAYER_SUSPENDED: { status: 403, retry: false, cancel: false },
  // A transfer in to a closed player (admin API), recorded like PLAYER_SUSPENDED.
  PLAYER_CLOSED: { status: 403, retry: false, cancel: false },
  PLAYER_NOT_FOUND: { status: 404, retry: false, cancel: false },
  NOT_FOUND: { status: 404, retry: false, cancel: false },
  DUPLICATE_TRANSACTION: { status: 409, retry: false, cancel: false },
  TRANSACTION_CANCELLED: { status: 409, retry: false, cancel: false },
  PLAYER_EXISTS: { status: 409, retry: false, cancel: false },
  // Closing a player whose balance is not 0 (admin API): transfer the balance out first.
  BALANCE_NOT_ZERO: { status: 409, retry: false, cancel: false },
  BODY_TOO_LARGE: { status: 413, retry: false, cancel: false },
  INTERNAL_ERROR: { status: 500, retry: true, cancel: true },
  // Also a cancel by batch_id out of its time budget (batch.ts): the retry goes on where it stopped.
  // `cancel` only acts on a failed Debit; after a failed batch cancel ThrillGate cancels nothing.
  UNAVAILABLE: { status: 503, retry: true, cancel: true },
} as const satisfies Record<string, ErrorRule>;
