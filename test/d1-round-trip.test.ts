import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1Of, d1RoundTripMs } from "../src/ledger/d1-round-trip";

// The bench's D1 round-trip model (D1_RTT_MS) must never reach a deployment: it is honoured only
// where fault injection is enabled, which wrangler.toml never sets.
describe("the modelled D1 round trip (bench only)", () => {
  it("is ignored without FAULT_INJECTION: the wallet gets the binding itself", () => {
    expect(d1RoundTripMs({ D1_RTT_MS: "25" })).toBe(0);
    expect(d1RoundTripMs({ D1_RTT_MS: "25", FAULT_INJECTION: "disabled" })).toBe(0);
    expect(d1Of({ DB: env.DB, D1_RTT_MS: "25" })).toBe(env.DB);
    expect(d1Of({ DB: env.DB, FAULT_INJECTION: "enabled" })).toBe(env.DB);
  });

  it("refuses a value that is not a whole number of ms up to 1000", () => {
    for (const bad of ["-1", "2.5", "fast", "1001"]) {
      expect(() => d1RoundTripMs({ D1_RTT_MS: bad, FAULT_INJECTION: "enabled" })).toThrow(
        /D1_RTT_MS/,
      );
    }
  });

  it("with FAULT_INJECTION, makes every D1 call wait the round trip before it runs", async () => {
    const db = d1Of({ DB: env.DB, FAULT_INJECTION: "enabled", D1_RTT_MS: "40" });
    expect(db).toBe(d1Of({ DB: env.DB, FAULT_INJECTION: "enabled", D1_RTT_MS: "40" }));
    // workerd's clock moves across I/O, and a timer is I/O: Date.now() sees the wait.
    let startMs = Date.now();
    expect(await db.prepare("SELECT ? AS one").bind(1).first("one")).toBe(1);
    expect(Date.now() - startMs).toBeGreaterThanOrEqual(40);

    startMs = Date.now();
    const select = db.prepare("SELECT ? AS n");
    const results = await db.batch<{ n: number }>([select.bind(1), select.bind(2)]);
    expect(results.map((r) => r.results[0]?.n)).toEqual([1, 2]);
    // One batch is one round trip, not one per statement.
    expect(Date.now() - startMs).toBeGreaterThanOrEqual(40);
    expect(Date.now() - startMs).toBeLessThan(80 + 500);
  });
});
