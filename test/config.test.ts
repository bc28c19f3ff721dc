import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readConfig } from "../src/config";

// readConfig runs zod over the settings once per env object (a WeakMap), not on every request.

const SECRET = "current-secret-0123456789";
const PREVIOUS = "previous-secret-0123456789";

describe("readConfig", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads the settings of each env object, so a test's own vars (a new object) take effect", () => {
    const small = { ...env, MAX_BATCH_SIZE: "7" };
    expect(readConfig(small).maxBatchSize).toBe(7);
    expect(readConfig(small).maxBatchSize).toBe(7);
    expect(readConfig({ ...env, MAX_BATCH_SIZE: "8" }).maxBatchSize).toBe(8);
  });

  it("reads BATCH_CANCEL_BUDGET_MS as 5000 by default, 0 to 8000 when set, and refuses a budget a call could not keep under ThrillGate's 10 s", () => {
    expect(
      readConfig({ ...env, BATCH_CANCEL_BUDGET_MS: undefined } as unknown as Env)
        .batchCancelBudgetMs,
    ).toBe(5000);
    expect(readConfig({ ...env, BATCH_CANCEL_BUDGET_MS: "0" }).batchCancelBudgetMs).toBe(0);
    expect(readConfig({ ...env, BATCH_CANCEL_BUDGET_MS: "8000" }).batchCancelBudgetMs).toBe(8000);
    for (const bad of ["8001", "-1", "1.5", "5s"])
      expect(() => readConfig({ ...env, BATCH_CANCEL_BUDGET_MS: bad })).toThrow(
        /invalid configuration: BATCH_CANCEL_BUDGET_MS/,
      );
  });

  it("refuses a bad configuration on every call, not only the first", () => {
    const bad = { ...env, WALLET_HMAC_SECRET: "short" };
    expect(() => readConfig(bad)).toThrow(/invalid configuration: WALLET_HMAC_SECRET/);
    expect(() => readConfig(bad)).toThrow(/invalid configuration: WALLET_HMAC_SECRET/);
  });

  it("closes a rotation window on time, though the settings were parsed before it closed", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const rotating = {
      ...env,
      WALLET_HMAC_SECRET: SECRET,
      WALLET_HMAC_SECRET_PREVIOUS: PREVIOUS,
      WALLET_HMAC_SECRET_PREVIOUS_UNTIL: "2030-01-01T01:00:00Z",
    };
    expect(readConfig(rotating).hmacSecrets).toEqual([SECRET, PREVIOUS]);
    vi.setSystemTime(new Date("2030-01-01T01:00:01Z"));
    expect(readConfig(rotating).hmacSecrets).toEqual([SECRET]);
  });
});
