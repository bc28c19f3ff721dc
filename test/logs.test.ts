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

  it("says how many items a cancel by batch_id reversed and how many remain, on its 503 and its 200", async () => {
    const { playerId } = await newPlayer({ balance: "5.00" });
    const batchId = uniqueId("b-log");
    const vars = { MAX_BATCH_SIZE: "2", BATCH_CANCEL_BUDGET_MS: "0" };
    const items = [batchItem(playerId), batchItem(playerId), batchItem(playerId)];
    for (const transactions of [items.slice(0, 2), items.slice(2)])
      await wallet(
        "POST",
        "/wallet/transaction/batch",
        { batch_id: batchId, transactions },
        { vars },
      );
    logSpy.mockClear();
    for (let call = 0; call < 2; call++)
      await wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId }, { vars });
    expect(requestLines()).toMatchObject([
      { batch_id: batchId, outcome: "UNAVAILABLE", status: 503, reversed: 2, remaining: 1 },
      { batch_id: batchId, outcome: "OK:3", status: 200, items: 3, reversed: 1, remaining: 0 },
    ]);
  });
});
