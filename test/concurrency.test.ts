import { describe, expect, it } from "vitest";
import {
  balanceText,
  cancel,
  countRows,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
} from "./helpers";

// Invariants 1 and 3 under the load the Durable Object exists for: many requests at once.
describe("concurrency", () => {
  it("50 concurrent copies of one debit are applied once and all answer the same", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const transactionId = uniqueId("tx");
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        transact(playerId, { transaction_id: transactionId, amount: "7.00" }),
      ),
    );
    expect(new Set(answers.map((a) => `${a.status} ${a.text}`))).toEqual(
      new Set([`200 {"transaction_id":"${transactionId}","balance":93.00,"currency":"EUR"}`]),
    );
    expect(await storedBalanceMinor(playerId)).toBe(9300);
    expect(await countRows("ledger_entries", playerId)).toBe(1);
  });

  it("200 concurrent debits of 1.00 on 50.00 apply exactly 50 and leave 0.00", async () => {
    const { playerId } = await newPlayer({ balance: "50.00" });
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => transact(playerId, { amount: "1.00" })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 402)).toHaveLength(150);
    expect(await balanceText(playerId)).toBe("0.00");
    expect(await storedBalanceMinor(playerId)).toBe(0);
    expect(await countRows("ledger_entries", playerId)).toBe(50);
    // Each success answered a distinct balance on the way down: 49.00 … 0.00.
    const seen = answers.filter((a) => a.status === 200).map((a) => a.body.balance);
    expect(new Set(seen).size).toBe(50);
  });

  it("operations on 100 players at once each land on their own player", async () => {
    const players = await Promise.all(
      Array.from({ length: 100 }, () => newPlayer({ balance: "10.00" })),
    );
    await Promise.all(
      players.flatMap(({ playerId }, i) => [
        transact(playerId, { amount: "1.00" }),
        transact(playerId, { amount: "2.00" }),
        transact(playerId, {
          transaction_type: "Credit",
          amount: `0.${String(i).padStart(2, "0")}`,
        }),
      ]),
    );
    for (const [i, { playerId }] of players.entries()) {
      expect(await storedBalanceMinor(playerId)).toBe(700 + i);
      expect(await ledgerAddsUp(playerId)).toBe(true);
    }
  });

  it("a cancel without player_id racing its original never leaves the money moved", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    for (let round = 0; round < 20; round++) {
      const transactionId = uniqueId("race");
      const [original, cancelled] = await Promise.all([
        transact(playerId, { transaction_id: transactionId, amount: "5.00" }),
        cancel(transactionId, null),
      ]);
      expect(cancelled.status).toBe(200);
      // Either the original came first and was reversed, or the cancel came first and it was refused.
      expect([200, 409]).toContain(original.status);
      if (original.status === 409) expect(original.body.code).toBe("TRANSACTION_CANCELLED");
    }
    expect(await storedBalanceMinor(playerId)).toBe(10000);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });
});
