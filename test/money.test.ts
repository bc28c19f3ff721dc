import { describe, expect, it } from "vitest";
import { formatMinor, MAX_MINOR_UNITS, parseAmount } from "../src/money";

describe("money: decimal text ⇄ minor units", () => {
  it("reads amounts exactly in the currency's minor units", () => {
    expect(parseAmount("12.34", "EUR")).toEqual({ ok: true, minor: 1234 });
    expect(parseAmount("0.1", "EUR")).toEqual({ ok: true, minor: 10 });
    expect(parseAmount("0.30000000000000004", "EUR").ok).toBe(false);
    expect(parseAmount("1.000", "EUR")).toEqual({ ok: true, minor: 100 });
    expect(parseAmount("500", "JPY")).toEqual({ ok: true, minor: 500 });
    expect(parseAmount("0.123", "KWD")).toEqual({ ok: true, minor: 123 });
    expect(parseAmount("0.00000001", "BTC")).toEqual({ ok: true, minor: 1 });
  });

  it("adds 0.1 and 0.2 to exactly 0.3", () => {
    const a = parseAmount("0.1", "EUR");
    const b = parseAmount("0.2", "EUR");
    if (!a.ok || !b.ok) throw new Error("parse failed");
    expect(formatMinor(a.minor + b.minor, "EUR")).toBe("0.30");
  });

  it("refuses what is not an exact non-negative decimal of the currency", () => {
    for (const [text, currency] of [
      ["1.005", "EUR"],
      ["-1", "EUR"],
      ["+1", "EUR"],
      ["1e2", "EUR"],
      ["01", "EUR"],
      [".5", "EUR"],
      ["1.", "EUR"],
      ["1.5", "JPY"],
      ["Infinity", "EUR"],
      ["NaN", "EUR"],
      [" 1", "EUR"],
      ["1", "XYZW1"],
    ]) {
      expect(parseAmount(text!, currency!).ok, `${text} ${currency}`).toBe(false);
    }
  });

  it("refuses amounts above MAX_MINOR_UNITS, however many digits", () => {
    expect(parseAmount(formatMinor(MAX_MINOR_UNITS, "EUR"), "EUR")).toEqual({
      ok: true,
      minor: MAX_MINOR_UNITS,
    });
    expect(parseAmount("10000000000000.01", "EUR").ok).toBe(false);
    expect(parseAmount("9".repeat(400), "EUR").ok).toBe(false);
  });

  it("writes minor units back with the currency's decimals", () => {
    expect(formatMinor(100000, "EUR")).toBe("1000.00");
    expect(formatMinor(5, "EUR")).toBe("0.05");
    expect(formatMinor(0, "EUR")).toBe("0.00");
    expect(formatMinor(-250, "EUR")).toBe("-2.50");
    expect(formatMinor(1500, "JPY")).toBe("1500");
    expect(formatMinor(1, "BTC")).toBe("0.00000001");
  });
});
