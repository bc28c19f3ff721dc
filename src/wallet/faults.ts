// Fault injection, for local and test runs only. FAULT_INJECTION="enabled" is passed by the
// chaos runner (`wrangler dev --var`) and the test config; wrangler.toml never sets it, so a
// deployment has no fault route and its player objects refuse fault plans.

export interface FaultPlan {
  /** The next N D1 writes fail before committing (D1 unavailable). */
  failNextWrites: number;
  /** The next N D1 writes commit, then the answer is lost (a timeout after commit). */
  loseNextAnswers: number;
  /** The object resets itself before its next operation (a restart mid-stream). */
  restart: boolean;
}

export const NO_FAULTS: FaultPlan = { failNextWrites: 0, loseNextAnswers: 0, restart: false };

export function faultsEnabled(env: Env): boolean {
  return env.FAULT_INJECTION === "enabled";
}
