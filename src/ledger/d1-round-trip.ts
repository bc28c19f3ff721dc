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

// One wrapper per binding object, so the statements it prepares can be recognised in batch().
const wrapped = new WeakMap<D1Database, D1Database>();

/** env.DB as the wallet should use it: the binding itself, or the binding behind a modelled round trip. */
export function d1Of(env: RoundTripEnv): D1Database {
  const ms = d1RoundTripMs(env);
  if (ms === 0) return env.DB;
  let db = wrapped.get(env.DB);
  if (!db) {
    db = withRoundTrip(env.DB, ms);
    wrapped.set(env.DB, db);
  }
  return db;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `target[key]`, a method that reaches D1, called only after `ms` have passed. */
function delayed(target: object, key: string, ms: number) {
  const method = Reflect.get(target, key) as (...args: unknown[]) => Promise<unknown>;
  return async (...args: unknown[]) => {
    await wait(ms);
    return method.apply(target, args);
  };
}

/**
 * `d1` with every call that reaches D1 (a statement's run/all/first/raw, batch, exec, dump)
 * delayed by `ms` before it runs. prepare() and bind() stay local, as they are in production.
 */
export function withRoundTrip(d1: D1Database, ms: number): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const statement = (inner: D1PreparedStatement): D1PreparedStatement => {
    const outer = new Proxy(inner, {
      get(target, key) {
        if (key === "bind") return (...values: unknown[]) => statement(target.bind(...values));
        if (key === "run" || key === "all" || key === "first" || key === "raw") {
          return delayed(target, key, ms);
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(outer, inner);
    return outer;
  };
  return new Proxy(d1, {
    get(target, key) {
      if (key === "prepare") return (query: string) => statement(target.prepare(query));
      if (key === "batch") {
        return async <T>(statements: D1PreparedStatement[]) => {
          await wait(ms);
          return target.batch<T>(statements.map((s) => real.get(s) ?? s));
        };
      }
      if (key === "exec" || key === "dump") return delayed(target, key, ms);
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
