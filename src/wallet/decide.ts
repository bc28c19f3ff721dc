// The wallet's rules as pure functions of (state, operation) → decision, with no I/O: the
// PlayerWallet object only orders operations, loads state and persists what is decided here.
import type { Config } from "../config";
import {
  isTransferType,
  type EntryType,
  type PlayerStatus,
  type TransactionType,
  type TransferType,
} from "../ledger/schema";
import type {
  KnownTransaction,
  LedgerWrite,
  RefusalWrite as LedgerRefusalWrite,
} from "../ledger/writes";
import { MAX_MINOR_UNITS, parseAmount, type MinorUnits } from "../money";
import { isRefusalCode, type Refusal, type RefusalCode } from "./refusals";

export interface PlayerState {
  playerId: string;
  currency: string;
  balanceMinor: MinorUnits;
  /** Set by the operator: who may play (active), and who may still receive transfers (not closed). */
  status: PlayerStatus;
}

export interface TransactionOp {
  transactionId: string;
  playerId: string;
  type: TransactionType;
  /** Decimal text as sent; read in the player's currency. */
  amount: string;
  currency?: string;
  batchId?: string;
  /** Request fields the wallet does not interpret, as the JSON text of an object, kept with the ledger entry as sent. */
  metadata: string;
}

export interface CancelOp {
  transactionId: string;
  playerId: string;
  batchId?: string;
  /** The brand whose key signed the cancel (null or absent: the default key), kept on a tombstone. */
  brandId?: string | null;
  /** For the default key: the brands listed when it signed (listedBrandsOf), kept on a tombstone. */
  listedBrands?: string | null;
}

export const TRANSFER_DIRECTIONS = ["in", "out"] as const;
export type TransferDirection = (typeof TRANSFER_DIRECTIONS)[number];

/** The operator moving money into or out of the wallet (admin API); its id shares the one id space. */
export interface TransferOp {
  transferId: string;
  playerId: string;
  direction: TransferDirection;
  /** Decimal text as sent; read in the player's currency. */
  amount: string;
  /** `reason` and the fields the wallet does not interpret, as the JSON text of an object. */
  metadata: string;
}

/** The operator setting a player's status (admin API). */
export interface StatusOp {
  playerId: string;
  status: PlayerStatus;
}

export interface Rules {
  acceptZeroValueCredits: boolean;
}

/** The rules of the deployment's settings: the one place a handler's Config becomes Rules. */
export function rulesOf(config: Pick<Config, "acceptZeroValueCredits">): Rules {
  return { acceptZeroValueCredits: config.acceptZeroValueCredits };
}

/** A refused transaction, recorded so that a later copy of it gets the same answer. */
type RefusalWrite = LedgerRefusalWrite<Refusal>;

export type Decision =
  | { kind: "refuse"; refusal: Refusal; write?: RefusalWrite }
  /** Nothing to write: a replay, or a cancel already done. Answer this balance. */
  | { kind: "answer"; balanceMinor: MinorUnits }
  | { kind: "write"; write: LedgerWrite; balanceMinor: MinorUnits };

function refusalOf(code: RefusalCode, message: string, balanceMinor?: MinorUnits): Refusal {
  return balanceMinor === undefined ? { code, message } : { code, message, balanceMinor };
}

function refuse(code: RefusalCode, message: string, balanceMinor?: MinorUnits): Decision {
  return { kind: "refuse", refusal: refusalOf(code, message, balanceMinor) };
}

/** What a decision writes to D1, if anything. */
export function writeOf(decision: Decision): LedgerWrite | undefined {
  return decision.kind === "answer" ? undefined : decision.write;
}

/** The player's state once the decision's write has committed. */
export function stateAfter(state: PlayerState, decision: Decision): PlayerState {
  if (decision.kind !== "write") return state;
  const status = decision.write.kind === "status" ? decision.write.status : state.status;
  return { ...state, balanceMinor: decision.balanceMinor, status };
}

const DELTA_SIGN: Record<EntryType, number> = {
  Debit: -1,
  Credit: 1,
  None: 0,
  TransferIn: 1,
  TransferOut: -1,
};

const TRANSFER_TYPE: Record<TransferDirection, TransferType> = {
  in: "TransferIn",
  out: "TransferOut",
};

/** What an id's refusal records: the content it was refused with, so a copy is compared with it. */
type RefusedContent = Omit<RefusalWrite, "kind" | "refusal">;

/**
 * A refusal that may depend on the player's balance, status or settings that can change, so it is
 * recorded with the id: a later copy gets the same answer, never a different one.
 */
function refuseAndRecord(
  content: RefusedContent,
  code: RefusalCode,
  message: string,
  balanceMinor?: MinorUnits,
): Decision {
  const refusal = refusalOf(code, message, balanceMinor);
  return { kind: "refuse", refusal, write: { kind: "refusal", ...content, refusal } };
}

/**
 * A copy of an id D1 already holds (invariant 1): with the same content, the first answer again (a
 * recorded refusal, or the balance it left); with other content, DUPLICATE_TRANSACTION.
 */
function replay(known: KnownTransaction, sameContent: boolean, what: string): Decision {
  if (
    sameContent &&
    known.status === "refused" &&
    known.refusalCode !== null &&
    isRefusalCode(known.refusalCode)
  ) {
    return refuse(
      known.refusalCode,
      known.refusalMessage ?? "refused",
      known.refusalBalanceMinor ?? undefined,
    );
  }
  // A refused row keeps balance_after NULL, so other content or an unreadable refusal lands here.
  if (!sameContent || known.balanceAfterMinor === null) {
    return refuse(
      "DUPLICATE_TRANSACTION",
      `${what} ${known.transactionId} exists with other content`,
    );
  }
  return { kind: "answer", balanceMinor: known.balanceAfterMinor };
}

/**
 * Applies `content`'s amount to the balance, within the wallet's bounds: never below zero
 * (invariant 3: no overdraft, for the operator too) and never above MAX_MINOR_UNITS. A refusal
 * here depends on the balance, so it is recorded with the id.
 */
function applyWithin(
  state: PlayerState,
  content: RefusedContent,
  metadata: string,
  shortfall: string,
): Decision {
  const deltaMinor = DELTA_SIGN[content.type] * content.amountMinor;
  const balanceAfterMinor = state.balanceMinor + deltaMinor;
  if (balanceAfterMinor < 0) {
    return refuseAndRecord(content, "INSUFFICIENT_FUNDS", shortfall, state.balanceMinor);
  }
  if (balanceAfterMinor > MAX_MINOR_UNITS) {
    return refuseAndRecord(
      content,
      "INVALID_REQUEST",
      "the balance would exceed the wallet's maximum",
    );
  }
  return {
    kind: "write",
    balanceMinor: balanceAfterMinor,
    write: { kind: "apply", ...content, deltaMinor, metadata, balanceAfterMinor },
  };
}

/** May this Debit, Credit or None be applied to this player's state, given what D1 knows of its id? */
export function decideTransaction(
  state: PlayerState,
  known: KnownTransaction | undefined,
  op: TransactionOp,
  rules: Rules,
): Decision {
  const amount = parseAmount(op.amount, state.currency);
  if (!amount.ok) return refuse("INVALID_REQUEST", `amount: ${amount.reason}`);
  const amountMinor = amount.minor;
  const currency = op.currency ?? state.currency;

  // Invariants 1 and 2: an id is applied at most once, and never after a cancel of it.
  if (known) {
    if (known.status === "tombstone") {
      return refuse(
        "TRANSACTION_CANCELLED",
        `transaction ${op.transactionId} was cancelled before it arrived`,
      );
    }
    // An operator transfer's id has another type, so it is never taken for this transaction.
    const sameContent =
      known.playerId === op.playerId &&
      known.type === op.type &&
      known.amountMinor === amountMinor &&
      known.currency === currency;
    return replay(known, sameContent, "transaction");
  }

  const content: RefusedContent = {
    transactionId: op.transactionId,
    playerId: op.playerId,
    type: op.type,
    amountMinor,
    currency,
    batchId: op.batchId ?? null,
  };
  // A player the operator suspended or closed plays no more; a win and a reversal are still paid.
  if (op.type === "Debit" && state.status !== "active") {
    return refuseAndRecord(
      content,
      "PLAYER_SUSPENDED",
      `player ${op.playerId} is ${state.status}: no debits`,
    );
  }
  if (currency !== state.currency) {
    return refuseAndRecord(
      content,
      "CURRENCY_MISMATCH",
      `the player's currency is ${state.currency}, not ${currency}`,
    );
  }
  if (op.type === "None" && amountMinor !== 0)
    return refuseAndRecord(content, "INVALID_REQUEST", "amount: a None transaction has amount 0");
  if (op.type === "Credit" && amountMinor === 0 && !rules.acceptZeroValueCredits) {
    return refuseAndRecord(
      content,
      "INVALID_REQUEST",
      "amount: zero-value credits are not accepted",
    );
  }
  return applyWithin(state, content, op.metadata, "the balance is lower than the debit");
}

/** May this cancel reverse what D1 knows of the id, for this player? */
export function decideCancel(
  state: PlayerState,
  known: KnownTransaction | undefined,
  op: CancelOp,
): Decision {
  if (!known) {
    // Invariant 2: remember the cancel, so that a late original is refused.
    return {
      kind: "write",
      balanceMinor: state.balanceMinor,
      write: {
        kind: "tombstone",
        transactionId: op.transactionId,
        playerId: op.playerId,
        batchId: op.batchId ?? null,
        brandId: op.brandId ?? null,
        listedBrands: op.listedBrands ?? null,
      },
    };
  }
  if (known.playerId !== null && known.playerId !== op.playerId) {
    return refuse("INVALID_REQUEST", `transaction ${op.transactionId} belongs to another player`);
  }
  // An operator transfer is final: ThrillGate's cancel neither reverses it nor answers it as done.
  if (isTransferType(known.type)) {
    return refuse(
      "DUPLICATE_TRANSACTION",
      `${op.transactionId} is an operator transfer, not a ThrillGate transaction: a cancel cannot reverse it`,
    );
  }
  // A cancel is applied at most once: repeats and cancels of tombstones change nothing.
  if (known.status !== "applied") return { kind: "answer", balanceMinor: state.balanceMinor };
  if (known.type === null || known.amountMinor === null || known.currency === null) {
    throw new Error(`applied transaction ${known.transactionId} has no content`);
  }

  const deltaMinor = -DELTA_SIGN[known.type] * known.amountMinor;
  const balanceAfterMinor = state.balanceMinor + deltaMinor;
  if (balanceAfterMinor < 0) {
    return refuse(
      "INSUFFICIENT_FUNDS",
      "the player has already spent the credit this cancel would take back",
      state.balanceMinor,
    );
  }
  if (balanceAfterMinor > MAX_MINOR_UNITS)
    return refuse("INVALID_REQUEST", "the balance would exceed the wallet's maximum");
  return {
    kind: "write",
    balanceMinor: balanceAfterMinor,
    write: {
      kind: "reverse",
      transactionId: op.transactionId,
      playerId: op.playerId,
      type: known.type,
      deltaMinor,
      currency: known.currency,
      batchId: op.batchId ?? null,
      balanceAfterMinor,
    },
  };
}

/**
 * May the operator move this amount into or out of the player's wallet? A transfer is applied at
 * most once, like a transaction, and its id is never a ThrillGate transaction's (the one id space:
 * a transfer's type is TransferIn or TransferOut). Out is paid to any player; in, not to a closed one.
 */
export function decideTransfer(
  state: PlayerState,
  known: KnownTransaction | undefined,
  op: TransferOp,
): Decision {
  const amount = parseAmount(op.amount, state.currency);
  if (!amount.ok) return refuse("INVALID_REQUEST", `amount: ${amount.reason}`);
  const amountMinor = amount.minor;
  if (amountMinor === 0) return refuse("INVALID_REQUEST", "amount: a transfer moves more than 0");
  const type = TRANSFER_TYPE[op.direction];

  if (known) {
    // A ThrillGate transaction's id, or a cancel's tombstone: not this transfer, whatever it holds.
    if (!isTransferType(known.type)) {
      return refuse(
        "DUPLICATE_TRANSACTION",
        `${op.transferId} is the id of a ThrillGate transaction, not of a transfer`,
      );
    }
    const sameContent =
      known.playerId === op.playerId &&
      known.type === type &&
      known.amountMinor === amountMinor &&
      known.currency === state.currency;
    return replay(known, sameContent, "transfer");
  }

  const content: RefusedContent = {
    transactionId: op.transferId,
    playerId: op.playerId,
    type,
    amountMinor,
    currency: state.currency,
    batchId: null,
  };
  if (op.direction === "in" && state.status === "closed") {
    return refuseAndRecord(
      content,
      "PLAYER_CLOSED",
      `player ${op.playerId} is closed: no transfers in`,
    );
  }
  return applyWithin(state, content, op.metadata, "the balance is lower than the transfer out");
}

/**
 * May the operator set this status? Any status may follow any other, but a player is closed only
 * with nothing left in the wallet: the operator transfers the balance out first.
 */
export function decideStatus(state: PlayerState, op: StatusOp): Decision {
  if (op.status === state.status) return { kind: "answer", balanceMinor: state.balanceMinor };
  if (op.status === "closed" && state.balanceMinor !== 0) {
    return refuse(
      "BALANCE_NOT_ZERO",
      `player ${op.playerId} still holds a balance: transfer it out before closing`,
      state.balanceMinor,
    );
  }
  return {
    kind: "write",
    balanceMinor: state.balanceMinor,
    write: {
      kind: "status",
      playerId: op.playerId,
      status: op.status,
      balanceMinor: state.balanceMinor,
    },
  };
}
