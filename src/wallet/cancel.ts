import type { BrandScope } from "../auth/brands";
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
import { type KnownTransaction, listedBrandsOf, tombstoneBlocks } from "../ledger/writes";
import { playerWallet, type WalletAnswer } from "./player-wallet";

// Cancels that start before a player's object can take them: the id's owner is read from D1, an
// id nobody owns is remembered as a tombstone, and a cancel by batch_id lists the batch's ids.
// Each is held to the brands of the key that signed (`scope`): an id of another brand's player is
// answered as an unknown id is, and nothing of that brand changes.

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
  scope: BrandScope,
  transactionId: string,
  playerId: string | undefined,
  batchId?: string,
): Promise<CancelAnswer> {
  const extra = batchId ? { batchId } : {};
  if (playerId)
    return playerWallet(env, playerId).cancel({ transactionId, playerId, ...extra }, scope);
  const db = ledgerDb(env.DB);
  for (let attempt = 1; attempt <= OWNER_LOOKUPS; attempt++) {
    const known = await findTransaction(db, transactionId);
    // Another brand's tombstone: this brand's cancel is kept too, so that the tombstone now blocks
    // every brand's original (the other brand's cancel is not lost either). If an original replaced
    // the tombstone since the read, the widen fails whole and we look again: it is reversed.
    if (known?.status === "tombstone" && !tombstoneBlocks(known, scope.brand)) {
      try {
        await commitWrites(db, [
          {
            kind: "tombstone",
            transactionId,
            playerId: known.playerId,
            batchId: known.batchId,
            brandId: scope.brand,
            listedBrands: listedBrandsOf(scope),
            widens: true,
          },
        ]);
        return ORPHAN_CANCEL;
      } catch (error) {
        if (!isConstraintError(error)) throw error;
        continue;
      }
    }
    if (known?.playerId) {
      const answer = await playerWallet(env, known.playerId).cancel(
        { transactionId, playerId: known.playerId, ...extra },
        scope,
      );
      // The id is another brand's player's: answered as an unknown id, nothing written.
      return isPlayerNotFound(answer) ? ORPHAN_CANCEL : answer;
    }
    if (known) return ORPHAN_CANCEL;
    // An id the archive moved out of D1 (docs/archive.md): its owner's object holds the rest.
    const archivedOwner = (await findArchivedOwners(db, [transactionId])).get(transactionId);
    if (archivedOwner) {
      const answer = await playerWallet(env, archivedOwner).cancel(
        { transactionId, playerId: archivedOwner, ...extra },
        scope,
      );
      return isPlayerNotFound(answer) ? ORPHAN_CANCEL : answer;
    }
    try {
      await commitWrites(db, [
        {
          kind: "tombstone",
          transactionId,
          playerId: null,
          batchId: batchId ?? null,
          brandId: scope.brand,
          listedBrands: listedBrandsOf(scope),
        },
      ]);
      return ORPHAN_CANCEL;
    } catch (error) {
      if (!isConstraintError(error)) throw error;
    }
  }
  return { kind: "unavailable", message: "the transaction id changed owner twice; retry" };
}

/** True for the answer a player's object gives a key that may not reach the player. */
export function isPlayerNotFound(answer: CancelAnswer): boolean {
  return answer.kind === "refused" && answer.refusal.code === "PLAYER_NOT_FOUND";
}

/**
 * The owner of each of these ids that D1 knows an owner of (the others are absent). A tombstone
 * has no owner here: its cancel is settled as a single one is (cancelTransaction).
 */
export async function ownersOf(env: Env, transactionIds: string[]): Promise<Map<string, string>> {
  const db = ledgerDb(env.DB);
  const known = await findTransactions(db, transactionIds);
  const owners = new Map(
    [...known].flatMap(([transactionId, row]) =>
      row.playerId && row.status !== "tombstone" ? [[transactionId, row.playerId] as const] : [],
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
 * What a cancel by batch_id alone takes: every item of the batch that belongs to a player `scope`
 * reaches, the last applied first, each with what was known of it when read (see
 * transactionsOfBatch): from D1 for a live item; for an item the archive moved out of D1, from its
 * owner's object (one call per owner, in parallel), which holds it as D1 did (docs/archive.md). An
 * archived item its object no longer holds is past the id window: forgotten, as any such id is.
 * The caller cancels them in that order, in pages, and may stop between two pages (batch.ts).
 */
export async function itemsOfBatch(
  env: Env,
  scope: BrandScope,
  batchId: string,
): Promise<BatchTransaction[]> {
  const rows = await transactionsOfBatch(ledgerDb(env.DB), batchId, scope);
  const archivedByOwner = new Map<string, string[]>();
  for (const { archived, item } of rows) {
    if (!archived) continue;
    archivedByOwner.set(item.playerId, [
      ...(archivedByOwner.get(item.playerId) ?? []),
      item.transactionId,
    ]);
  }
  const held = new Map<string, KnownTransaction>();
  await Promise.all(
    [...archivedByOwner].map(async ([playerId, ids]) => {
      for (const known of await playerWallet(env, playerId).archivedIdsOf(ids))
        held.set(known.transactionId, known);
    }),
  );
  return rows.flatMap(({ archived, item }) => {
    if (!archived) return [item];
    const known = held.get(item.transactionId);
    return known ? [{ ...known, playerId: item.playerId }] : [];
  });
}
