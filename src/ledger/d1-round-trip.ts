// The bench's model of where D1 runs in production: apart from the Worker and the player's
// object, so every call pays a network round trip. Locally D1 is a file inside the same workerd
// and a call costs no time on the wire; with D1_RTT_MS set (and only where fault injection is
// enabled, so never in a deployment) every call first waits that long. The baseline Worker of
// bench/baseline/ imports this same module, so both pay the same wait.

/** Highest modelled round trip: a setting past it is a typo, not a network. */
export const MAX_D1_RTT_MS = 1000;

interface RoundTripEnv {
  DB: D1Database;
  FAULT_INJECTION?: string;
  D1_RTT_MS?: string;
}

/**
 * The round trip to model, in ms: 0 unless FAULT_INJECTION is "enabled" (a deployment never sets
 * it, so D1_RTT_MS there changes nothing). An unreadable value throws: a bench that silently
 * modelled no round trip would print figures for the wrong world.
 */
export function d1RoundTripMs(env: Omit<RoundTripEnv, "DB">): number {
  if (env.FAULT_INJECTION !== "enabled" || env.D1_RTT_MS === undefined || env.D1_RTT_MS === "")
    return 0;
  const ms = Number(env.D1_RTT_MS);
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_D1_RTT_MS)
    throw new Error(`invalid configuration: D1_RTT_MS must be an integer in 0..${MAX_D1_RTT_MS}`);
  return ms;
}

// One wrapper per binding object, so the statements it prepares can be recognised in batch(); and
// the wrappers themselves, so a binding already wrapped (index.ts wraps env.DB) is not wrapped twice.
const wrapped = new WeakMap<D1Database, D1Database>();
const wrappers = new WeakSet<D1Database>();

/**
 * A D1 binding (env.DB unless named) as the wallet should use it: the binding itself, or the
 * binding behind a modelled round trip.
 */
export function d1Of(env: RoundTripEnv, d1: D1Database = env.DB): D1Database {
  const ms = d1RoundTripMs(env);
  if (ms === 0 || wrappers.has(d1)) return d1;
  let db = wrapped.get(d1);
  if (!db) {
    db = withRoundTrip(d1, ms);
    wrapped.set(d1, db);
    wrappers.add(db);
  }
  return db;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One call that reaches D1: a statement's run/all/first/raw, a batch, exec or dump. */
export interface D1Call {
  kind: "statement" | "batch" | "exec" | "dump";
  /** The SQL of the statements it runs (none for exec's script or a dump). */
  queries: string[];
}

export interface D1CallHooks {
  before?: (call: D1Call) => Promise<void> | void;
  after?: (call: D1Call) => Promise<void> | void;
}

/**
 * `d1` with `hooks` awaited around every call that reaches D1; prepare() and bind() stay local,
 * as they are in production. The bench's round trip waits before each call; tests use it to
 * commit something between two of the wallet's D1 calls.
 */
export function aroundD1Calls(d1: D1Database, hooks: D1CallHooks): D1Database {
  const around = async <T>(call: D1Call, run: () => Promise<T>): Promise<T> => {
    await hooks.before?.(call);
    const result = await run();
    await hooks.after?.(call);
    return result;
  };
  // The binding's own statement behind each wrapped one, and its SQL: batch() takes only the
  // binding's own statements.
  const real = new WeakMap<object, { inner: D1PreparedStatement; query: string }>();
  const statement = (inner: D1PreparedStatement, query: string): D1PreparedStatement => {
    const outer = new Proxy(inner, {
      get(target, key) {
        if (key === "bind")
          return (...values: unknown[]) => statement(target.bind(...values), query);
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== "function") return value;
        if (key === "run" || key === "all" || key === "first" || key === "raw") {
          return (...args: unknown[]) =>
            around({ kind: "statement", queries: [query] }, () =>
              Promise.resolve(Reflect.apply(value, target, args)),
            );
        }
        return value.bind(target);
      },
    });
    real.set(outer, { inner, query });
    return outer;
  };
  return new Proxy(d1, {
    get(target, key) {
      if (key === "prepare") return (query: string) => statement(target.prepare(query), query);
      if (key === "batch") {
        return <T>(statements: D1PreparedStatement[]) => {
          const known = statements.map((s) => real.get(s));
          return around({ kind: "batch", queries: known.map((k) => k?.query ?? "") }, () =>
            target.batch<T>(statements.map((s, i) => known[i]?.inner ?? s)),
          );
        };
      }
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      if (key === "exec" || key === "dump") {
        return (...args: unknown[]) =>
          around({ kind: key, queries: [] }, () =>
            Promise.resolve(Reflect.apply(value, target, args)),
          );
      }
      return value.bind(target);
    },
  });
}

/** `d1` with every call that reaches D1 delayed by `ms` before it runs. */
export function withRoundTrip(d1: D1Database, ms: number): D1Database {
  return aroundD1Calls(d1, { before: () => wait(ms) });
}
