import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, cancel, newPlayer, transact, uniqueId } from "./helpers";

describe("GET /admin/reconcile (invariant 5: the ledger adds up)", () => {
  it("is exact after debits, credits, cancels and tombstones", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const debit = uniqueId("tx");
    await transact(playerId, { transaction_id: debit, amount: "3.00" });
    await transact(playerId, { transaction_type: "Credit", amount: "1.25" });
    await cancel(debit, playerId);
    await cancel(uniqueId("tx"), playerId);
    await cancel(uniqueId("tx"), null);
    const answer = await admin("GET", "/admin/reconcile");
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      ok: true,
      balance_mismatches: [],
      transaction_problems: [],
    });
    expect(answer.body.players_checked).toBeGreaterThanOrEqual(1);
    expect(answer.body.transactions_checked).toBeGreaterThanOrEqual(4);
  });

  it("reports a balance that disagrees with the ledger, and an id with a missing entry", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "3.00" });
    // Corrupt the ledger behind the wallet's back, check, then restore it for the next test.
    await env.DB.prepare("UPDATE players SET balance_minor = balance_minor + 1 WHERE id = ?")
      .bind(playerId)
      .run();
    await env.DB.prepare("UPDATE transactions SET status = 'cancelled' WHERE transaction_id = ?")
      .bind(transactionId)
      .run();
    const answer = await admin("GET", "/admin/reconcile");
    expect(answer.body.ok).toBe(false);
    expect(answer.body.balance_mismatches).toEqual([
      { player_id: playerId, balance_minor: 701, expected_minor: 700 },
    ]);
    expect(answer.body.transaction_problems).toEqual([
      {
        transaction_id: transactionId,
        status: "cancelled",
        applying_entries: 1,
        reversing_entries: 0,
      },
    ]);
    await env.DB.prepare("UPDATE players SET balance_minor = balance_minor - 1 WHERE id = ?")
      .bind(playerId)
      .run();
    await env.DB.prepare("UPDATE transactions SET status = 'applied' WHERE transaction_id = ?")
      .bind(transactionId)
      .run();
    expect((await admin("GET", "/admin/reconcile")).body.ok).toBe(true);
  });

  it("needs the admin token", async () => {
    expect((await admin("GET", "/admin/reconcile", undefined, "")).status).toBe(401);
  });
});
