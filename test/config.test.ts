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
    expect(readConfig(rotating).hmacKeys[0]).toEqual({ brand: null, secrets: [SECRET, PREVIOUS] });
    vi.setSystemTime(new Date("2030-01-01T01:00:01Z"));
    expect(readConfig(rotating).hmacKeys[0]).toEqual({ brand: null, secrets: [SECRET] });
  });
});

describe("readConfig: the brands' keys (WALLET_HMAC_SECRETS)", () => {
  const A = "brand-a-secret-for-config-0123";
  const B = "brand-b-secret-for-config-0123";
  const brands = (keys: unknown) => (typeof keys === "string" ? keys : JSON.stringify(keys));

  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads one key per brand, after the default key, and lists the brands", () => {
    const config = readConfig({
      ...env,
      WALLET_HMAC_SECRET: SECRET,
      WALLET_HMAC_SECRETS: brands({ b1: A, b2: B }),
    });
    expect(config.hmacKeys).toEqual([
      { brand: null, secrets: [SECRET] },
      { brand: "b1", secrets: [A] },
      { brand: "b2", secrets: [B] },
    ]);
    expect(config.listedBrands).toEqual(["b1", "b2"]);
  });

  it("unset or empty: only the default key, for every brand (a single-brand deployment)", () => {
    for (const value of [undefined, ""]) {
      const config = readConfig({ ...env, WALLET_HMAC_SECRETS: value as unknown as string });
      expect(config.hmacKeys).toEqual([{ brand: null, secrets: [env.WALLET_HMAC_SECRET] }]);
      expect(config.listedBrands).toEqual([]);
    }
  });

  it.each([
    ["not JSON", "{b1:"],
    ["not an object", brands(["b1", A])],
    ["a secret that is not a string", brands({ b1: 1234567890123456 })],
    ["a short secret", brands({ b1: "short" })],
    ["an empty brand id", brands({ "": A })],
    ["one secret for two brands", brands({ b1: A, b2: A })],
    ["a brand's secret that is the default key", brands({ b1: SECRET })],
  ])("fails closed on %s, naming the setting and never the value", (_what, value) => {
    const bad = { ...env, WALLET_HMAC_SECRET: SECRET, WALLET_HMAC_SECRETS: value };
    for (let call = 0; call < 2; call++) {
      let message = "";
      try {
        readConfig(bad);
      } catch (error) {
        message = String(error);
      }
      expect(message).toMatch(/invalid configuration: .*WALLET_HMAC_SECRETS/);
      expect(message).not.toContain(A);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain("short");
    }
  });

  it("refuses a previous key of a brand that is not listed, or that is another brand's key", () => {
    const base = { ...env, WALLET_HMAC_SECRET: SECRET, WALLET_HMAC_SECRETS: brands({ b1: A }) };
    expect(() =>
      readConfig({ ...base, WALLET_HMAC_SECRETS_PREVIOUS: brands({ b2: PREVIOUS }) }),
    ).toThrow(/invalid configuration: WALLET_HMAC_SECRETS_PREVIOUS/);
    expect(() =>
      readConfig({
        ...base,
        WALLET_HMAC_SECRETS: brands({ b1: A, b2: B }),
        WALLET_HMAC_SECRETS_PREVIOUS: brands({ b1: B }),
      }),
    ).toThrow(/invalid configuration: WALLET_HMAC_SECRETS_PREVIOUS/);
    expect(() => readConfig({ ...base, WALLET_HMAC_SECRETS_PREVIOUS_UNTIL: "soon" })).toThrow(
      /invalid configuration: WALLET_HMAC_SECRETS_PREVIOUS_UNTIL/,
    );
  });

  it("rotates one brand's key: the previous one is live until WALLET_HMAC_SECRETS_PREVIOUS_UNTIL", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const rotating = {
      ...env,
      WALLET_HMAC_SECRET: SECRET,
      WALLET_HMAC_SECRETS: brands({ b1: A, b2: B }),
      WALLET_HMAC_SECRETS_PREVIOUS: brands({ b1: PREVIOUS }),
      WALLET_HMAC_SECRETS_PREVIOUS_UNTIL: "2030-01-01T01:00:00Z",
    };
    expect(readConfig(rotating).hmacKeys).toEqual([
      { brand: null, secrets: [SECRET] },
      { brand: "b1", secrets: [A, PREVIOUS] },
      { brand: "b2", secrets: [B] },
    ]);
    vi.setSystemTime(new Date("2030-01-01T01:00:01Z"));
    expect(readConfig(rotating).hmacKeys[1]).toEqual({ brand: "b1", secrets: [A] });
  });
});
