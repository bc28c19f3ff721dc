import { getTableColumns } from "drizzle-orm";
import type { BrandScope } from "../auth/brands";
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
 * Does this tombstone stop a late original of a player of `brandId` (or, for a cancel, does it
 * already stop what a cancel signed by `brandId`'s key would: null is the default key)? The one
 * rule; `tombstoneGivesWay` in transactions.ts is its negation in SQL, and test/tombstones.test.ts
 * holds the two to the same table of cases.
 * - every_brand 1 (two brands cancelled the id): every brand.
 * - A brand's own key's tombstone: that brand only.
 * - The default key's (brand_id NULL, listed_brands set): every brand not listed when it was
 *   written, since its cancel may have been of any of them, a brand listed since included; a
 *   listed brand's original replaces it. It covers a later cancel of the default key too.
 * - brand_id and listed_brands NULL (written before migration 0007): every brand, since nothing
 *   says which brands its key could reach.
 */
export function tombstoneBlocks(
  tombstone: Pick<KnownTransaction, "brandId" | "everyBrand" | "listedBrands">,
  brandId: string | null,
): boolean {
  if (tombstone.everyBrand === 1) return true;
  if (tombstone.brandId !== null) return tombstone.brandId === brandId;
  // `?? null`: a KnownTransaction kept as JSON before the column existed (wallet/archived-ids.ts).
  const listedBrands = tombstone.listedBrands ?? null;
  if (listedBrands === null || brandId === null) return true;
  return !(JSON.parse(listedBrands) as string[]).includes(brandId);
}

/**
 * What a tombstone of a cancel signed by `scope` records besides its brand: for the default key,
 * the brands listed now (it cannot reach them); null for a brand's own key.
 */
export function listedBrandsOf(scope: BrandScope): string | null {
  return scope.brand === null ? JSON.stringify([...scope.listed].sort()) : null;
}

/**
 * Set on the first write of an id that D1 holds as a tombstone that does not block the original's
 * brand: the tombstone is deleted in the same batch, and only if it still blocks no original of
 * `forBrandId` (else the insert after it fails on the key).
 */
export interface ReplacesTombstone {
  replacesTombstone?: { forBrandId: string };
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
      /** For the default key: the brands listed when it signed (listedBrandsOf); else null. */
      listedBrands: string | null;
      /**
       * A cancel of a tombstone that does not block its brand: the tombstone then blocks every
       * brand. Fails on the key, whole, if the id is no longer a tombstone (an original replaced it).
       */
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
      const { transactionId, playerId, batchId, brandId, listedBrands } = write;
      return {
        ...NOTHING_KNOWN,
        transactionId,
        playerId,
        status: "tombstone",
        batchId,
        brandId,
        listedBrands: brandId === null ? listedBrands : null,
        everyBrand: 0,
      };
    }
  }
}
