import { ledgerShardNames } from "../config";
import { d1Of } from "./d1-round-trip";

// Where the ledger lives (docs/architecture.md, "Shards"): players and their ledgers on the shards
// LEDGER_SHARDS lists, and one index database, the binding DB, that holds the player directory,
// the transaction-id index and the sessions. DB may be shard 0 as well.

interface ShardEnv {
  DB: D1Database;
  LEDGER_SHARDS?: string;
  FAULT_INJECTION?: string;
  D1_RTT_MS?: string;
}

function isD1(value: unknown): value is D1Database {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { prepare?: unknown }).prepare === "function" &&
    typeof (value as { batch?: unknown }).batch === "function"
  );
}

/** The index database: the player directory, the transaction-id index, sessions. */
export function indexD1(env: ShardEnv): D1Database {
  return d1Of(env);
}

/**
 * The shards' D1 databases, in LEDGER_SHARDS order. A name that is not a D1 binding of this
 * Worker throws (invalid configuration): a shard silently missing would hide its players.
 */
export function shardD1s(env: ShardEnv): D1Database[] {
  return ledgerShardNames(env).map((name) => {
    const binding: unknown = Reflect.get(env, name);
    if (!isD1(binding))
      throw new Error(
        `invalid configuration: LEDGER_SHARDS names ${name}, which is not a D1 binding`,
      );
    return d1Of(env, binding);
  });
}

/** Shard `shard`'s D1 database; a number outside the list throws. */
export function shardD1(env: ShardEnv, shard: number): D1Database {
  const shards = shardD1s(env);
  const d1 = shards[shard];
  if (d1 === undefined)
    throw new Error(`shard ${shard} is not configured: LEDGER_SHARDS lists ${shards.length}`);
  return d1;
}
