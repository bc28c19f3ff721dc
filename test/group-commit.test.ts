import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  batchItem,
  countRows,
  failLedgerWrites,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
  wallet,
} from "./helpers";

async function committed(transactionId: string): Promise<boolean> {
  return (
    (await env.DB.prepare("SELECT 1 FROM transactions WHERE transaction_id = ?")
      .bind(transactionId)
      .first()) !== null
  );
}

describe("group commit in the player object", () => {
  it("writes operations that queued behind a D1 write together, each decided in order", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => transact(playerId, { amount: "1.50" })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(66);
    expect(await storedBalanceMinor(playerId)).toBe(100);
    // One batch, one timestamp: fewer distinct timestamps than operations means they were grouped.
    const batches = await env.DB.prepare(
      "SELECT COUNT(DISTINCT created_at_ms) AS n FROM ledger_entries WHERE player_id = ?",
    )
      .bind(playerId)
      .first<{ n: number }>();
    expect(batches!.n).toBeLessThan(66);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("a grouped write that fails tells no caller success for it; a bad item then fails alone", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const ids = Array.from({ length: 20 }, () => uniqueId("gc"));
    const poisoned = ids[7]!;
    const heal = await failLedgerWrites(`NEW.transaction_id = '${poisoned}'`);
    const answers = await Promise.all(
      ids.map((id) => transact(playerId, { transaction_id: id, amount: "1.00" })),
    );
    for (const [i, answer] of answers.entries()) {
      // Success was answered only for what D1 holds, and D1 holds only what was answered success.
      expect(answer.status === 200, `${ids[i]} ${answer.status}`).toBe(await committed(ids[i]!));
    }
    expect(answers[7]!.status).toBe(503);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(await storedBalanceMinor(playerId)).toBe(8100);
    await heal();
    expect((await transact(playerId, { transaction_id: poisoned, amount: "1.00" })).status).toBe(
      200,
    );
    expect(await storedBalanceMinor(playerId)).toBe(8000);
  });

  it("when D1 refuses every write of a group, every caller gets 503 and nothing is applied", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const heal = await failLedgerWrites(`NEW.player_id = '${playerId}'`);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => transact(playerId, { amount: "1.00" })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(503));
    expect(await storedBalanceMinor(playerId)).toBe(10000);
    expect(await countRows("transactions", playerId)).toBe(0);
    await heal();
    expect((await transact(playerId, { amount: "1.00" })).text).toContain('"balance":99.00');
  });

  it("a batch is one group: a failed item makes the batch 503 and holds back the items after it; the retry keeps order", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const items = Array.from({ length: 5 }, () => batchItem(playerId, { amount: "1.00" }));
    const heal = await failLedgerWrites(`NEW.transaction_id = '${items[2]!.transaction_id}'`);
    const body = { transactions: items };
    expect((await wallet("POST", "/wallet/transaction/batch", body)).status).toBe(503);
    expect(await storedBalanceMinor(playerId)).toBe(800);
    await heal();
    const retry = await wallet("POST", "/wallet/transaction/batch", body);
    expect(
      retry.body.results.map((r: { status: string; balance: number }) => [r.status, r.balance]),
    ).toEqual([
      ["OK", 9],
      ["OK", 8],
      ["OK", 7],
      ["OK", 6],
      ["OK", 5],
    ]);
    expect(await storedBalanceMinor(playerId)).toBe(500);
  });
});
