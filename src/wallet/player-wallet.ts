import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";
import { ledgerDb } from "../ledger/db";
import { findPlayer } from "../ledger/players";
import type { MinorUnits } from "../money";
import { SerialQueue } from "./serial-queue";

/** What the object holds in memory for its player; D1 stays the authority. */
export interface PlayerState {
  playerId: string;
  currency: string;
  balanceMinor: MinorUnits;
}

export type BalanceOutcome =
  | { found: true; currency: string; balanceMinor: MinorUnits }
  | { found: false };

/**
 * One object per player id: every operation on a player's balance runs here, one at a time,
 * so decisions are made against a balance no one else is changing. The state is loaded from
 * D1 once and answered from memory after.
 */
export class PlayerWallet extends DurableObject<Env> {
  readonly #queue = new SerialQueue();
  #state: PlayerState | undefined;

  balance(playerId: string): Promise<BalanceOutcome> {
    return this.#queue.run(async () => {
      const state = await this.#load(playerId);
      return state ? { found: true, currency: state.currency, balanceMinor: state.balanceMinor } : { found: false };
    });
  }

  // An unknown player is not cached: the admin API may create it at any moment.
  async #load(playerId: string): Promise<PlayerState | undefined> {
    if (this.#state) return this.#state;
    const row = await findPlayer(ledgerDb(this.env.DB), playerId);
    if (row) this.#state = { playerId: row.id, currency: row.currency, balanceMinor: row.balanceMinor };
    return this.#state;
  }
}

/** The Durable Object that owns `playerId`'s balance. */
export function playerWallet(env: Env, playerId: string): DurableObjectStub<PlayerWallet> {
  return env.PLAYER_WALLET.get(env.PLAYER_WALLET.idFromName(playerId));
}
