// The wallet's rules as pure functions of (state, operation) → decision, with no I/O: the
// PlayerWallet object only orders operations, loads state and persists what is decided here.
import type { Config } from "../config";
import { isTransferType, type TransactionType } from "../ledger/schema";
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

const DELTA_SIGN: Record<TransactionType, number> = { Debit: -1, Credit: 1, None: 0 };

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
    const sameContent =
      known.playerId === op.playerId &&
      known.type === op.type &&
      known.amountMinor === amountMinor &&
      known.currency === currency;
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
        `transaction ${op.transactionId} exists with other content`,
      );
    }
    return { kind: "answer", balanceMinor: known.balanceAfterMinor };
  }

  // A refusal from here on may depend on the player's balance or on settings that can change, so
  // it is recorded with the id: a later copy gets the same answer, never a different one.
  const refuseAndRecord = (
    code: RefusalCode,
    message: string,
    balanceMinor?: MinorUnits,
  ): Decision => {
    const refusal = refusalOf(code, message, balanceMinor);
    const { transactionId, playerId, type } = op;
    const write: RefusalWrite = {
      kind: "refusal",
      transactionId,
      playerId,
      type,
      amountMinor,
      currency,
      batchId: op.batchId ?? null,
      refusal,
    };
    return { kind: "refuse", refusal, write };
  };
  if (currency !== state.currency) {
    return refuseAndRecord(
      "CURRENCY_MISMATCH",
      `the player's currency is ${state.currency}, not ${currency}`,
    );
  }
  if (op.type === "None" && amountMinor !== 0)
    return refuseAndRecord("INVALID_REQUEST", "amount: a None transaction has amount 0");
  if (op.type === "Credit" && amountMinor === 0 && !rules.acceptZeroValueCredits) {
    return refuseAndRecord("INVALID_REQUEST", "amount: zero-value credits are not accepted");
  }
  const deltaMinor = DELTA_SIGN[op.type] * amountMinor;
  const balanceAfterMinor = state.balanceMinor + deltaMinor;
  // Invariant 3: no overdraft.
  if (balanceAfterMinor < 0) {
    return refuseAndRecord(
      "INSUFFICIENT_FUNDS",
      "the balance is lower than the debit",
      state.balanceMinor,
    );
  }
  if (balanceAfterMinor > MAX_MINOR_UNITS)
    return refuseAndRecord("INVALID_REQUEST", "the balance would exceed the wallet's maximum");

  return {
    kind: "write",
    balanceMinor: balanceAfterMinor,
    write: {
      kind: "apply",
      transactionId: op.transactionId,
      playerId: op.playerId,
      type: op.type,
      amountMinor,
      deltaMinor,
      currency,
      batchId: op.batchId ?? null,
      metadata: op.metadata,
      balanceAfterMinor,
    },
  };
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
