import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { batchItem, newPlayer, transact, uniqueId, wallet } from "./helpers";

let logSpy: MockInstance<typeof console.log>;
beforeEach(() => {
  logSpy = vi.spyOn(console, "log");
});
afterEach(() => {
  logSpy.mockRestore();
});

/** The request log lines written since the spy was set, parsed. */
function requestLines(): Record<string, unknown>[] {
  return logSpy.mock.calls
    .map((call) => String(call[0]))
    .filter((line) => line.startsWith('{"request_id"'))
    .map((line) => JSON.parse(line));
}

describe("structured logs: one JSON line per request", () => {
  it("names the route, player, transaction, outcome, status and duration, and echoes X-Request-Id", async () => {
    const { playerId } = await newPlayer({ balance: "5.00" });
    logSpy.mockClear();
    const transactionId = uniqueId("tx");
    const answer = await transact(
      playerId,
      { transaction_id: transactionId, amount: "9.00" },
      { headers: { "x-request-id": "req-42" } },
    );
    expect(answer.headers.get("x-request-id")).toBe("req-42");
    expect(requestLines()).toEqual([
      {
        request_id: "req-42",
        method: "POST",
        route: "/wallet/transaction",
        player_id: playerId,
        transaction_id: transactionId,
        // The brand whose key signed (brand1 is not listed: the default key); never the key.
        signed_by: "(default)",
        outcome: "INSUFFICIENT_FUNDS",
        status: 402,
        duration_ms: expect.any(Number),
      },
    ]);
  });

  it("generates a request id when none (or a forged one) is given", async () => {
    const answer = await wallet("GET", "/wallet/balance?player_id=nobody", undefined, {
      headers: { "x-request-id": 'x" {"forged":1}' },
    });
    const id = answer.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLines()).toMatchObject([
      {
        request_id: id,
        route: "/wallet/balance",
        player_id: "nobody",
        outcome: "PLAYER_NOT_FOUND",
        status: 404,
      },
    ]);
  });

  it("counts a batch's item outcomes", async () => {
    const { playerId } = await newPlayer({ balance: "1.00" });
    logSpy.mockClear();
    await wallet("POST", "/wallet/transaction/batch", {
      batch_id: "b-log",
      transactions: [batchItem(playerId), batchItem(playerId)],
    });
    expect(requestLines()).toMatchObject([
      {
        route: "/wallet/transaction/batch",
        batch_id: "b-log",
        items: 2,
        outcome: "OK:1 INSUFFICIENT_FUNDS:1",
        status: 200,
      },
    ]);
  });
});
