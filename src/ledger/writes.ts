import { getTableColumns } from "drizzle-orm";
import type { MinorUnits } from "../money";
import { transactions, type EntryType, type PlayerStatus, type TransactionType } from "./schema";

// What the ledger records of a transaction id, and the writes that change it: the vocabulary the
// wallet's decisions produce and the ledger's queries persist. Derived from the drizzle schema, so
// a new column of `transactions` is one edit there (plus its migration).

/** The columns of `transactions` the wallet decides with (all but the bookkeeping timestamp). */
const { createdAtMs: _createdAtMs, ...knownColumns } = getTableColumns(transactions);
export const KNOWN_COLUMNS = knownColumns;

/** What D1 knows of a transaction id (the row of the transactions table). */
export type KnownTransaction = Omit<typeof transactions.$inferSelect, "createdAtMs">;

/** A refusal as recorded with its id, so that a later copy gets the same answer. */
export interface RecordedRefusal {
  code: string;
  message: string;
  /** Set where the spec puts the balance in the error body (INSUFFICIENT_FUNDS). */
  balanceMinor?: MinorUnits;
}

/**
 * Set on the first write of an id that D1 holds as another brand's tombstone: the tombstone (of
 * this brand, null for the default key) is deleted in the same batch, and only if it is still there.
 */
export interface ReplacesTombstone {
  replacesTombstoneOf?: { brandId: string | null };
}

/** A refused transaction, recorded so that a later copy of it gets the same answer. */
export interface RefusalWrite<Refusal extends RecordedRefusal = RecordedRefusal>
  extends ReplacesTombstone {
  kind: "refusal";
  transactionId: string;
  playerId: string;
  type: EntryType;
  amountMinor: MinorUnits;
  currency: string;
  batchId: string | null;
  refusal: Refusal;
}

/** A change to what D1 knows of one id (a ThrillGate transaction or an operator transfer). */
export type IdWrite =
  | (ReplacesTombstone & {
      kind: "apply";
      transactionId: string;
      playerId: string;
      type: EntryType;
      amountMinor: MinorUnits;
      deltaMinor: MinorUnits;
      currency: string;
      batchId: string | null;
      metadata: string;
      balanceAfterMinor: MinorUnits;
    })
  | {
      kind: "reverse";
      transactionId: string;
      playerId: string;
      type: TransactionType;
      deltaMinor: MinorUnits;
      currency: string;
      batchId: string | null;
      balanceAfterMinor: MinorUnits;
    }
  | (ReplacesTombstone & {
      kind: "tombstone";
      transactionId: string;
      playerId: string | null;
      batchId: string | null;
      /** The brand whose key signed the cancel; null for the default key. */
      brandId: string | null;
      /** A cancel of another brand's tombstone: the tombstone then blocks every brand. */
      widens?: true;
    })
  | RefusalWrite;

/**
 * The operator's change of a player's status. It moves no money, but is decided on the balance
 * (closing needs 0), so it is written only if the balance is still the one it was decided on.
 */
export interface StatusWrite {
  kind: "status";
  playerId: string;
  status: PlayerStatus;
  balanceMinor: MinorUnits;
}

/** A change to persist: one atomic D1 write per item. */
export type LedgerWrite = IdWrite | StatusWrite;

type NullableColumn = {
  [K in keyof KnownTransaction]: null extends KnownTransaction[K] ? K : never;
}[keyof KnownTransaction];

/** Every column that may be null, as null: what a row says of what its write does not set. */
const NOTHING_KNOWN = Object.fromEntries(
  Object.entries(KNOWN_COLUMNS).flatMap(([key, column]) => (column.notNull ? [] : [[key, null]])),
  // The entries are built from the same columns the type names; TypeScript cannot follow that.
) as { [K in NullableColumn]: null };

/**
 * What the object of a player that does not own an archived id may know of it: that another player
 * owns it, and nothing else (D1 keeps only the owner; the owner's object keeps the rest). Said as a
 * refusal without a code, so a copy is refused (DUPLICATE_TRANSACTION), never applied, and a cancel
 * reverses nothing: what the id's row said to another player before archival.
 */
export function archivedElsewhere(transactionId: string, ownerId: string): KnownTransaction {
  return { ...NOTHING_KNOWN, transactionId, playerId: ownerId, status: "refused", everyBrand: 0 };
}

/** What D1 will know of the id once `write` has committed. */
export function knownAfter(
  write: IdWrite,
  previous: KnownTransaction | undefined,
): KnownTransaction {
  switch (write.kind) {
    case "apply": {
      const { transactionId, playerId, type, amountMinor, currency, batchId, balanceAfterMinor } =
        write;
      return {
        ...NOTHING_KNOWN,
        transactionId,
        playerId,
        status: "applied",
        everyBrand: 0,
        type,
        amountMinor,
        currency,
        batchId,
        balanceAfterMinor,
      };
    }
    case "refusal": {
      const { transactionId, playerId, type, amountMinor, currency, batchId, refusal } = write;
      return {
        ...NOTHING_KNOWN,
        transactionId,
        playerId,
        status: "refused",
        everyBrand: 0,
        type,
        amountMinor,
        currency,
        batchId,
        refusalCode: refusal.code,
        refusalMessage: refusal.message,
        refusalBalanceMinor: refusal.balanceMinor ?? null,
      };
    }
    case "reverse":
      if (!previous) throw new Error(`reversal of ${write.transactionId} without its transaction`);
      return { ...previous, status: "cancelled" };
    case "tombstone": {
      if (write.widens) {
        if (!previous) throw new Error(`widening of ${write.transactionId} without its tombstone`);
        return { ...previous, everyBrand: 1 };
      }
      const { transactionId, playerId, batchId, brandId } = write;
      return {
        ...NOTHING_KNOWN,
        transactionId,
        playerId,
        status: "tombstone",
        batchId,
        brandId,
        everyBrand: 0,
      };
    }
  }
}
