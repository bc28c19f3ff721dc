import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";
import { ledgerDb } from "../ledger/db";
import { findPlayer } from "../ledger/players";
import { commitWrites, findTransaction, isConstraintError } from "../ledger/transactions";
import type { MinorUnits } from "../money";
import {
  decideCancel,
  decideTransaction,
  knownAfter,
  type CancelOp,
  type Decision,
  type KnownTransaction,
  type PlayerState,
  type Refusal,
  type Rules,
  type TransactionOp,
} from "./decide";
import { SerialQueue } from "./serial-queue";

/** Recent transaction ids kept in memory per player; older ones are read from D1 again. */
export const ID_CACHE_ENTRIES = 1024;

export type WalletAnswer =
  | { kind: "ok"; balanceMinor: MinorUnits; currency: string }
  | { kind: "refused"; refusal: Refusal; currency: string | null }
  /** D1 did not commit: nothing was applied, and the caller may retry. */
  | { kind: "unavailable"; message: string };

const PLAYER_NOT_FOUND = (playerId: string): WalletAnswer => ({
  kind: "refused",
  refusal: { code: "PLAYER_NOT_FOUND", message: `no player ${playerId}` },
  currency: null,
});

/**
 * One object per player id. Every operation on the player's balance runs here, one at a time
 * (see SerialQueue), and is answered only after D1 committed it. State is loaded from D1 once
 * and kept in memory; after any failed write it is dropped and loaded again.
 */
export class PlayerWallet extends DurableObject<Env> {
  readonly #queue = new SerialQueue();
  readonly #db = ledgerDb(this.env.DB);
  #state: PlayerState | undefined;
  readonly #known = new Map<string, KnownTransaction>();

  balance(playerId: string): Promise<WalletAnswer> {
    return this.#queue.run(async () => {
      const state = await this.#load(playerId);
      return state ? { kind: "ok", balanceMinor: state.balanceMinor, currency: state.currency } : PLAYER_NOT_FOUND(playerId);
    });
  }

  transact(op: TransactionOp, rules: Rules): Promise<WalletAnswer> {
    return this.#queue.run(() => this.#transactOne(op, rules));
  }

  cancel(op: CancelOp): Promise<WalletAnswer> {
    return this.#queue.run(() => this.#cancelOne(op));
  }

  /** A batch's items for this player, decided in request order against the running balance. */
  transactBatch(ops: TransactionOp[], rules: Rules): Promise<WalletAnswer[]> {
    return this.#queue.run(() => inOrder(ops, (op) => this.#transactOne(op, rules)));
  }

  cancelBatch(ops: CancelOp[]): Promise<WalletAnswer[]> {
    return this.#queue.run(() => inOrder(ops, (op) => this.#cancelOne(op)));
  }

  #transactOne(op: TransactionOp, rules: Rules): Promise<WalletAnswer> {
    return this.#decideAndCommit(op.playerId, op.transactionId, (state, known) => decideTransaction(state, known, op, rules));
  }

  #cancelOne(op: CancelOp): Promise<WalletAnswer> {
    return this.#decideAndCommit(op.playerId, op.transactionId, (state, known) => decideCancel(state, known, op));
  }

  async #decideAndCommit(
    playerId: string,
    transactionId: string,
    decide: (state: PlayerState, known: KnownTransaction | undefined) => Decision,
  ): Promise<WalletAnswer> {
    // A constraint failure means another writer (another player's object, a cancel without a
    // player id) took this id between our read and our write: decide once more on fresh state.
    for (let attempt = 1; ; attempt++) {
      const state = await this.#load(playerId);
      if (!state) return PLAYER_NOT_FOUND(playerId);
      const known = await this.#lookup(transactionId);
      const decision = decide(state, known);
      if (decision.kind === "refuse") return { kind: "refused", refusal: decision.refusal, currency: state.currency };
      if (decision.kind === "write") {
        try {
          await commitWrites(this.#db, [decision.write]);
        } catch (error) {
          this.#forget();
          console.error(JSON.stringify({ event: "write_failed", player_id: playerId, transaction_id: transactionId, attempt, error: String(error) }));
          if (attempt === 1 && isConstraintError(error)) continue;
          return { kind: "unavailable", message: "the ledger did not accept the write; nothing was applied" };
        }
        state.balanceMinor = decision.balanceMinor;
        this.#remember(knownAfter(decision.write, known));
      }
      return { kind: "ok", balanceMinor: decision.balanceMinor, currency: state.currency };
    }
  }

  // An unknown player is not cached: the admin API may create it at any moment.
  async #load(playerId: string): Promise<PlayerState | undefined> {
    if (this.#state) return this.#state;
    const row = await findPlayer(this.#db, playerId);
    if (row) this.#state = { playerId: row.id, currency: row.currency, balanceMinor: row.balanceMinor };
    return this.#state;
  }

  // D1 is the authority on ids; the cache only saves reads of ids this object wrote or read.
  async #lookup(transactionId: string): Promise<KnownTransaction | undefined> {
    const cached = this.#known.get(transactionId);
    if (cached) return cached;
    const row = await findTransaction(this.#db, transactionId);
    if (row) this.#remember(row);
    return row;
  }

  #remember(known: KnownTransaction): void {
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

// Each item is its own atomic write, so a failing item fails alone and nothing is half-applied.
async function inOrder<Op>(ops: Op[], run: (op: Op) => Promise<WalletAnswer>): Promise<WalletAnswer[]> {
  const answers: WalletAnswer[] = [];
  for (const op of ops) answers.push(await run(op));
  return answers;
}

/** The Durable Object that owns `playerId`'s balance. */
export function playerWallet(env: Env, playerId: string): DurableObjectStub<PlayerWallet> {
  return env.PLAYER_WALLET.get(env.PLAYER_WALLET.idFromName(playerId));
}
