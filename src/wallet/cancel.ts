import { ledgerDb } from "../ledger/db";
import {
  type BatchTransaction,
  commitWrites,
  findArchivedOwners,
  findTransaction,
  findTransactions,
  isConstraintError,
  transactionsOfBatch,
} from "../ledger/transactions";
import { playerWallet, type WalletAnswer } from "./player-wallet";

// Cancels that start before a player's object can take them: the id's owner is read from D1, an
// id nobody owns is remembered as a tombstone, and a cancel by batch_id lists the batch's ids.

/** A cancel of an id no player owns: remembered, and answered with balance "0" (the spec's choice). */
export const ORPHAN_CANCEL = { kind: "orphan" } as const;
export type CancelAnswer = WalletAnswer | typeof ORPHAN_CANCEL;

/** How often an unowned id is looked up again after its tombstone lost the insert race. */
const OWNER_LOOKUPS = 2;

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
  for (let attempt = 1; attempt <= OWNER_LOOKUPS; attempt++) {
    const known = await findTransaction(db, transactionId);
    if (known?.playerId)
      return playerWallet(env, known.playerId).cancel({
        transactionId,
        playerId: known.playerId,
        ...extra,
      });
    if (known) return ORPHAN_CANCEL;
    // An id the archive moved out of D1 (docs/archive.md): its owner's object holds the rest.
    const archivedOwner = (await findArchivedOwners(db, [transactionId])).get(transactionId);
    if (archivedOwner)
      return playerWallet(env, archivedOwner).cancel({
        transactionId,
        playerId: archivedOwner,
        ...extra,
      });
    try {
      await commitWrites(db, [
        { kind: "tombstone", transactionId, playerId: null, batchId: batchId ?? null },
      ]);
      return ORPHAN_CANCEL;
    } catch (error) {
      if (!isConstraintError(error)) throw error;
    }
  }
  return { kind: "unavailable", message: "the transaction id changed owner twice; retry" };
}

/** The owner of each of these ids that D1 knows an owner of (the others are absent). */
export async function ownersOf(env: Env, transactionIds: string[]): Promise<Map<string, string>> {
  const db = ledgerDb(env.DB);
  const known = await findTransactions(db, transactionIds);
  const owners = new Map(
    [...known].flatMap(([transactionId, row]) =>
      row.playerId ? [[transactionId, row.playerId] as const] : [],
    ),
  );
  // Ids the archive moved out of `transactions` keep their owner in archived_id_owners.
  const unknown = transactionIds.filter((id) => !known.has(id));
  if (unknown.length > 0)
    for (const [id, owner] of await findArchivedOwners(db, unknown)) owners.set(id, owner);
  return owners;
}

export type { BatchTransaction };

/**
 * What a cancel by batch_id alone takes: every item of the batch that belongs to a player, the
 * last applied first, each with what D1 knew of it when read (see transactionsOfBatch). The
 * caller cancels them in that order, in pages, and may stop between two pages (batch.ts).
 */
export function itemsOfBatch(env: Env, batchId: string): Promise<BatchTransaction[]> {
  return transactionsOfBatch(ledgerDb(env.DB), batchId);
}
