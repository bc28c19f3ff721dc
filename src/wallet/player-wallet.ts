import { DurableObject } from "cloudflare:workers";
import { inScope, type BrandScope } from "../auth/brands";
import { playerLocationHint, readConfig } from "../config";
import { d1Of } from "../ledger/d1-round-trip";
import { ledgerDb } from "../ledger/db";
import { findPlayer } from "../ledger/players";
import {
  commitWrites,
  findArchivedOwners,
  findReversed,
  findTransactions,
  isConstraintError,
  isIdTakenError,
} from "../ledger/transactions";
import {
  archivedElsewhere,
  knownAfter,
  listedBrandsOf,
  tombstoneBlocks,
  type KnownTransaction,
  type LedgerWrite,
} from "../ledger/writes";
import type { MinorUnits } from "../money";
import {
  decideCancel,
  decideStatus,
  decideTransaction,
  decideTransfer,
  stateAfter,
  writeOf,
  type CancelOp,
  type Decision,
  type PlayerState,
  type Rules,
  type StatusOp,
  type TransactionOp,
  type TransferOp,
} from "./decide";
import { type ArchivedId, ArchivedIds } from "./archived-ids";
import { faultsEnabled, NO_FAULTS, type FaultPlan } from "./faults";
import type { Refusal } from "./refusals";

/** Recent transaction ids kept in memory per player; older ones are read from D1 again. */
export const ID_CACHE_ENTRIES = 1024;

export type WalletAnswer =
  | { kind: "ok"; balanceMinor: MinorUnits; currency: string }
  | { kind: "refused"; refusal: Refusal; currency: string | null }
  /** D1 did not confirm the write: the caller may retry, and gets the same answer if it had committed. */
  | { kind: "unavailable"; message: string };

/**
 * The one-at-a-time path tries twice: once on what it knows, once after asking D1 (#runAlone); a
 * third time only after its write lost the race for another brand's tombstone (see there).
 */
const RUN_ALONE_ATTEMPTS = 3;

/** A bug, not a fault of D1: answered as an error, never as "unavailable, retry". */
class BrokenInvariant extends Error {}

/** One caller's operation, waiting its turn. */
interface Work {
  playerId: string;
  /** The id whose history the decision needs; none for a balance read or a status change. */
  transactionId?: string;
  /** For a wallet call: the brands its key may reach. The operator's calls (admin API) have none. */
  scope?: BrandScope;
  decide: (state: PlayerState, known: KnownTransaction | undefined, brandId: string) => Decision;
  /**
   * Shared by the items of one batch call. Once one of them could not be written, the later ones
   * are not decided either: deciding them without it would apply the batch out of request order.
   */
  batch?: { failed: boolean };
}

interface Queued extends Work {
  settle: (answer: WalletAnswer) => void;
  /** For a broken invariant: the caller's call throws (a 500), it is not told to retry. */
  fail: (error: BrokenInvariant) => void;
}

const PLAYER_NOT_FOUND = (playerId: string): WalletAnswer => ({
  kind: "refused",
  refusal: { code: "PLAYER_NOT_FOUND", message: `no player ${playerId}` },
  currency: null,
});

// Said also when a write committed but its confirmation was lost: a retry then answers the same.
const UNAVAILABLE: WalletAnswer = {
  kind: "unavailable",
  message: "the ledger write did not complete; retrying is safe",
};

/**
 * One object per player id: every operation on the player's balance runs here. Operations queue
 * in arrival order and one drain loop decides them, so no two decisions ever interleave (a D1
 * await opens the object's input gate, so the runtime alone would not guarantee that).
 *
 * Group commit: while one D1 batch is in flight, arriving operations queue up; the next round
 * decides all of them in order against the running balance and writes them in one D1 batch.
 * Every caller is answered only after the batch holding its write committed (invariant 4).
 */
export class PlayerWallet extends DurableObject<Env> {
  readonly #db = ledgerDb(d1Of(this.env));
  // GROUP_COMMIT_MAX_OPS bounds one D1 batch and the work a failed group sends back to the
  // one-at-a-time path.
  readonly #groupMaxOps = readConfig(this.env).groupCommitMaxOps;
  readonly #queue: Queued[] = [];
  #draining = false;
  #state: PlayerState | undefined;
  /** The player's brand, read with #state; a player's brand never changes. */
  #brandId = "";
  readonly #known = new Map<string, KnownTransaction>();
  /** Ids whose rows the archive moved out of D1: this object is then their only judge. */
  readonly #archived = new ArchivedIds(this.ctx.storage.sql);
  #faults: FaultPlan = NO_FAULTS;

  /** Arms faults for the next operations (local and test runs only). */
  injectFaults(plan: Partial<FaultPlan>): void {
    if (!faultsEnabled(this.env)) throw new Error("fault injection is disabled");
    this.#faults = { ...NO_FAULTS, ...plan };
  }

  // The wallet's calls name the brands their key may reach: a player of another brand is answered
  // PLAYER_NOT_FOUND, as a player that does not exist, and nothing is decided or written.

  balance(playerId: string, scope: BrandScope): Promise<WalletAnswer> {
    return this.#submit({
      playerId,
      scope,
      decide: (state) => ({ kind: "answer", balanceMinor: state.balanceMinor }),
    });
  }

  transact(op: TransactionOp, rules: Rules, scope: BrandScope): Promise<WalletAnswer> {
    return this.#submit(transactionWork(op, rules, scope));
  }

  cancel(op: CancelOp, scope: BrandScope): Promise<WalletAnswer> {
    return this.#submit(cancelWork(op, scope));
  }

  /** A batch's items for this player, decided in request order against the running balance. */
  transactBatch(ops: TransactionOp[], rules: Rules, scope: BrandScope): Promise<WalletAnswer[]> {
    const batch = { failed: false };
    return Promise.all(
      ops.map((op) => this.#submit({ ...transactionWork(op, rules, scope), batch })),
    );
  }

  /**
   * A batch's cancels for this player, decided in request order against the running balance. An
   * op may carry what its caller read of the id from D1 (`settled`): if that says the id is no
   * longer applied (cancelled or refused: neither ever changes again), the read is still true and the cancel is decided on it without reading D1 again. A retried cancel of a
   * large batch then passes over what it already undid in memory, not in round trips.
   */
  cancelBatch(
    ops: (CancelOp & { settled?: KnownTransaction })[],
    scope: BrandScope,
  ): Promise<WalletAnswer[]> {
    const batch = { failed: false };
    return Promise.all(ops.map((op) => this.#submit({ ...cancelWork(op, scope), batch })));
  }

  /** The operator's transfer in or out: queued and committed like a transaction. */
  transfer(op: TransferOp): Promise<WalletAnswer> {
    return this.#submit({
      playerId: op.playerId,
      transactionId: op.transferId,
      decide: (state, known) => decideTransfer(state, known, op),
    });
  }

  /**
   * The operator's status change, queued with the player's other operations: every operation after
   * it in the queue is decided on the new status, every one before it on the old one.
   */
  setStatus(op: StatusOp): Promise<WalletAnswer> {
    return this.#submit({ playerId: op.playerId, decide: (state) => decideStatus(state, op) });
  }

  /**
   * The archive job hands over the ids of a day before it deletes them from D1 (docs/archive.md),
   * and forgets those older than the id window. Synchronous storage writes only: no operation of
   * the queue interleaves with it. Returns how many ids the object holds.
   */
  archiveIds(ids: ArchivedId[], forgetBeforeMs: number): number {
    this.#archived.put(ids);
    this.#archived.prune(forgetBeforeMs);
    return this.#archived.count();
  }

  /**
   * What this object holds of these archived ids (those it holds; pruned ones are absent): for a
   * cancel by batch_id alone, which finds an archived item's owner in D1 and the rest here. A read
   * of its own storage that does not wait for the queue: an id whose cancel is in flight may still
   * read applied, as D1's row did before archival; its cancel then queues behind that one and is
   * answered as a repeat.
   */
  archivedIdsOf(transactionIds: string[]): KnownTransaction[] {
    return transactionIds.flatMap((id) => this.#archived.get(id) ?? []);
  }

  /** The archive job hands over a day's cancellations of ids this object holds as archived. */
  archiveCancellations(transactionIds: string[]): void {
    this.#archived.markCancelled(transactionIds);
  }

  #submit(work: Work): Promise<WalletAnswer> {
    const answer = new Promise<WalletAnswer>((resolve, reject) => {
      const settle = (answer: WalletAnswer) => {
        if (answer.kind === "unavailable" && work.batch) work.batch.failed = true;
        resolve(answer);
      };
      this.#queue.push({ ...work, settle, fail: reject });
    });
    if (!this.#draining) void this.#drain();
    return answer;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        if (this.#faults.restart) {
          this.#faults = NO_FAULTS;
          this.ctx.abort("injected restart");
        }
        const group = this.#queue.splice(0, this.#groupMaxOps);
        try {
          await this.#runGroup(group);
        } catch (error) {
          this.#forget();
          if (error instanceof BrokenInvariant) {
            console.error(JSON.stringify({ event: "broken_invariant", error: String(error) }));
            for (const work of group) work.fail(error);
            continue;
          }
          // A read failed (D1 unreachable): nothing of this group was written.
          console.error(JSON.stringify({ event: "group_failed", error: String(error) }));
          for (const work of group) work.settle(UNAVAILABLE);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #runGroup(group: Queued[]): Promise<void> {
    const first = group[0];
    if (!first) return;
    if (group.length === 1) return first.settle(await this.#runAlone(first));
    const state = await this.#load(first.playerId);
    if (!state) {
      for (const work of group) work.settle(PLAYER_NOT_FOUND(work.playerId));
      return;
    }
    await this.#prefetch(group);

    // Decide each operation in order against the running state (balance, status) and what the
    // earlier operations of the group will have written.
    let running = state;
    const written = new Map<string, KnownTransaction>();
    const writes: LedgerWrite[] = [];
    const answers: { work: Queued; answer: WalletAnswer }[] = [];
    for (const work of group) {
      if (work.batch?.failed) {
        answers.push({ work, answer: UNAVAILABLE });
        continue;
      }
      if (!this.#reaches(work)) {
        answers.push({ work, answer: PLAYER_NOT_FOUND(work.playerId) });
        continue;
      }
      const known = work.transactionId
        ? (written.get(work.transactionId) ?? this.#knownOf(work.transactionId))
        : undefined;
      const decision = work.decide(running, known, this.#brandId);
      const write = writeOf(decision);
      if (write) {
        writes.push(write);
        if (write.kind !== "status") written.set(write.transactionId, knownAfter(write, known));
      }
      running = stateAfter(running, decision);
      answers.push({ work, answer: answerOf(decision, state.currency) });
    }

    if (writes.length > 0) {
      try {
        await this.#commit(writes);
      } catch (error) {
        this.#forget();
        console.error(
          JSON.stringify({
            event: "group_write_failed",
            player_id: state.playerId,
            operations: group.length,
            error: String(error),
          }),
        );
        // Nobody of this group is told anything yet. Run them again one at a time on fresh
        // state, so that one bad write fails alone.
        for (const work of group) work.settle(await this.#runAlone(work));
        return;
      }
      this.#state = running;
      for (const known of written.values()) this.#remember(known);
    }
    for (const { work, answer } of answers) work.settle(answer);
  }

  /**
   * The one-at-a-time path. An id the cache does not hold is first decided as if D1 had never
   * seen it: if that decision writes, the write itself asks D1 (its primary keys refuse an id
   * already taken: a replay, another player's id, a tombstone) and saves a read per new id. Only
   * a decision that writes nothing, such as a refusal, could be wrong for an id seen before
   * without D1 saying so, so those read D1 first.
   */
  async #runAlone(work: Work): Promise<WalletAnswer> {
    if (work.batch?.failed) return UNAVAILABLE;
    // The second attempt returns, unless its write replaced or widened another brand's tombstone
    // and lost (an original replaced the tombstone first); the third always returns: it either
    // answers or reports the ledger unavailable.
    let replacing = false;
    for (let attempt = 1; attempt <= RUN_ALONE_ATTEMPTS; attempt++) {
      try {
        replacing = false;
        const state = await this.#load(work.playerId);
        if (!state || !this.#reaches(work)) return PLAYER_NOT_FOUND(work.playerId);
        let known = this.#cached(work);
        let decision = work.decide(state, known, this.#brandId);
        // After an attempt failed, or for a decision that writes nothing, ask D1 what it knows. An
        // id known only from the archive is asked about too after a failed attempt: a cancel of it
        // may have committed in D1 without this object hearing of it (its cancellations row says so).
        const inMemory = work.transactionId !== undefined && this.#known.has(work.transactionId);
        if (
          work.transactionId &&
          !inMemory &&
          (attempt > 1 || (known === undefined && !writeOf(decision)))
        ) {
          await this.#prefetch([work]);
          known = this.#cached(work);
          decision = work.decide(state, known, this.#brandId);
        }
        const write = writeOf(decision);
        if (write) {
          replacing =
            ("replacesTombstone" in write && write.replacesTombstone !== undefined) ||
            (write.kind === "tombstone" && write.widens === true);
          await this.#commit([write]);
          this.#state = stateAfter(state, decision);
          if (write.kind !== "status") this.#remember(knownAfter(write, known));
        }
        return answerOf(decision, state.currency);
      } catch (error) {
        // An id already taken is D1 answering the question the first attempt did not ask: the
        // normal path of a replay the cache did not hold. The write rolled back whole, so only
        // what is known of that id is read again; no log line. Anything else (a balance that was
        // not as cached, D1 failing) drops all memory and is logged.
        // So is an id taken after D1 said it was another brand's tombstone (a replace, or a
        // widen's stillTombstone): another original replaced it first, and what it holds now is
        // read once more.
        if (
          isIdTakenError(error) &&
          (attempt === 1 || (replacing && attempt < RUN_ALONE_ATTEMPTS))
        ) {
          if (work.transactionId) this.#known.delete(work.transactionId);
          continue;
        }
        this.#forget();
        console.error(
          JSON.stringify({
            event: "write_failed",
            player_id: work.playerId,
            transaction_id: work.transactionId,
            attempt,
            error: String(error),
          }),
        );
        if (attempt === 1 && isConstraintError(error)) continue;
        return UNAVAILABLE;
      }
    }
    throw new BrokenInvariant(
      `operation on ${work.transactionId ?? work.playerId} neither answered nor failed in ${RUN_ALONE_ATTEMPTS} attempts`,
    );
  }

  async #commit(writes: LedgerWrite[]): Promise<void> {
    if (this.#faults.failNextWrites > 0) {
      this.#faults = { ...this.#faults, failNextWrites: this.#faults.failNextWrites - 1 };
      throw new Error("injected fault: D1 refused the write");
    }
    await commitWrites(this.#db, writes);
    if (this.#faults.loseNextAnswers > 0) {
      this.#faults = { ...this.#faults, loseNextAnswers: this.#faults.loseNextAnswers - 1 };
      throw new Error("injected fault: the write committed but its answer was lost");
    }
  }

  // An unknown player is not cached: the admin API may create it at any moment.
  async #load(playerId: string): Promise<PlayerState | undefined> {
    if (this.#state) return this.#state;
    const row = await findPlayer(this.#db, playerId);
    if (row) {
      const { id, currency, balanceMinor, status } = row;
      this.#state = { playerId: id, currency, balanceMinor, status };
      this.#brandId = row.brandId;
    }
    return this.#state;
  }

  /** May this work touch the loaded player? Only once #load found it. */
  #reaches(work: Work): boolean {
    return work.scope === undefined || inScope(work.scope, this.#brandId);
  }

  #cached(work: Work): KnownTransaction | undefined {
    return work.transactionId ? this.#knownOf(work.transactionId) : undefined;
  }

  /**
   * What this object knows of an id: from D1 (its cache), else from its archived ids. Read before
   * an id it does not know is applied, so an archived id is never applied again, with no R2 read
   * and no D1 read on the path of a new id.
   */
  #knownOf(transactionId: string): KnownTransaction | undefined {
    return this.#known.get(transactionId) ?? this.#archived.get(transactionId);
  }

  /** Reads from D1, in one query, what is known of the ids the cache does not hold. */
  async #prefetch(group: Work[]): Promise<void> {
    const ids = new Set(group.flatMap((work) => (work.transactionId ? [work.transactionId] : [])));
    // The group's cached ids become the newest first: remembering the missing ones evicts the
    // oldest entries, and an evicted id of this group would be decided as never seen (a cancel
    // as a tombstone, whose write then fails and sends the whole group one at a time).
    for (const id of ids) {
      const known = this.#known.get(id);
      if (known) this.#remember(known);
    }
    const missing = [...ids].filter((id) => !this.#known.has(id));
    if (missing.length === 0) return;
    const found = await findTransactions(this.#db, missing);
    for (const known of found.values()) this.#remember(known);
    // An archived id whose cancel committed in D1 but not here (the object stopped in between):
    // its cancellation row, written after its id row, says so until it is archived too.
    const archivedApplied = missing.filter(
      (id) => !found.has(id) && this.#archived.get(id)?.status === "applied",
    );
    if (archivedApplied.length > 0)
      this.#archived.markCancelled([...(await findReversed(this.#db, archivedApplied))]);
    // An id archived for another player: D1 keeps its owner, and refuses to take it again.
    const unknown = missing.filter((id) => !found.has(id) && this.#archived.get(id) === undefined);
    if (unknown.length > 0) {
      for (const [id, owner] of await findArchivedOwners(this.#db, unknown))
        this.#remember(archivedElsewhere(id, owner));
    }
  }

  // D1 is the authority on ids; the cache only saves reads of ids this object wrote or read.
  #remember(known: KnownTransaction): void {
    // An archived id's record follows what D1 committed (a cancel of it); a no-op for other ids.
    this.#archived.update(known);
    this.#known.delete(known.transactionId);
    this.#known.set(known.transactionId, known);
    if (this.#known.size > ID_CACHE_ENTRIES) {
      const oldest = this.#known.keys().next();
      if (!oldest.done) this.#known.delete(oldest.value);
    }
  }

  // Invariant 4: after a failed write nothing in memory is trusted; the next call reloads from D1.
  #forget(): void {
    this.#state = undefined;
    this.#known.clear();
  }
}

function transactionWork(op: TransactionOp, rules: Rules, scope: BrandScope): Work {
  return {
    playerId: op.playerId,
    transactionId: op.transactionId,
    scope,
    decide: (state, known, brandId) =>
      overTombstoneOfOtherBrand(brandId, known, (visible) =>
        decideTransaction(state, visible, op, rules),
      ),
  };
}

function cancelWork(op: CancelOp & { settled?: KnownTransaction }, scope: BrandScope): Work {
  const { settled, ...cancel } = op;
  const decide: Work["decide"] = (state, known, brandId) =>
    overTombstoneOfOtherBrand(brandId, known, (visible) =>
      decideCancel(state, visible, {
        ...cancel,
        brandId: scope.brand,
        listedBrands: listedBrandsOf(scope),
      }),
    );
  // A tombstone is not final (another brand's original may replace it): only cancelled and
  // refused ids are decided on the caller's read.
  if (
    (settled?.status === "cancelled" || settled?.status === "refused") &&
    settled.transactionId === op.transactionId
  )
    return {
      playerId: op.playerId,
      scope,
      decide: (state, _known, brandId) => decide(state, settled, brandId),
    };
  return { playerId: op.playerId, transactionId: op.transactionId, scope, decide };
}

/**
 * A listed brand's tombstone blocks only that brand (tombstoneBlocks): another brand's cancel of an
 * id must not stop this brand's late original. Such a tombstone is decided on as an id D1 never
 * saw: an original's write replaces it (deleted in the same D1 batch, and only if it still gives
 * way to this brand), and a cancel of this brand widens it to block every brand, so that neither
 * brand's cancel is lost (the widen fails on the key if an original replaced the tombstone since
 * it was read, and the id is read again).
 */
function overTombstoneOfOtherBrand(
  playerBrandId: string,
  known: KnownTransaction | undefined,
  decide: (known: KnownTransaction | undefined) => Decision,
): Decision {
  if (known?.status !== "tombstone" || tombstoneBlocks(known, playerBrandId)) return decide(known);
  const decision = decide(undefined);
  if (decision.kind === "answer") return decision;
  const write = decision.write;
  if (!write || write.kind === "status" || write.kind === "reverse") return decision;
  if (write.kind === "tombstone")
    return { ...decision, write: { ...write, widens: true } } as Decision;
  return {
    ...decision,
    write: { ...write, replacesTombstone: { forBrandId: playerBrandId } },
  } as Decision;
}

function answerOf(decision: Decision, currency: string): WalletAnswer {
  return decision.kind === "refuse"
    ? { kind: "refused", refusal: decision.refusal, currency }
    : { kind: "ok", balanceMinor: decision.balanceMinor, currency };
}

/** The Durable Object that owns `playerId`'s balance, placed by PLAYER_LOCATION_HINT when it is created. */
export function playerWallet(env: Env, playerId: string): DurableObjectStub<PlayerWallet> {
  const locationHint = playerLocationHint(env);
  return env.PLAYER_WALLET.get(
    env.PLAYER_WALLET.idFromName(playerId),
    locationHint ? { locationHint } : undefined,
  );
}
