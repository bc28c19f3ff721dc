import { describe, expect, it } from "vitest";
import {
  batchItem,
  countRows,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  uniqueId,
  wallet,
} from "./helpers";

// Issue 12.6: a cancel by batch_id undoes the batch in reverse order of application (a player's
// later items first), so a batch that could be applied can be undone whole; and a batch_id that
// several requests grew past MAX_BATCH_SIZE is undone in pages (`more`), never refused for its size.

const cancelByBatchId = (batchId: string, vars: Partial<Cloudflare.Env> = {}) =>
  wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId }, { vars });

describe("cancel by batch_id", () => {
  it("undoes [Credit 10, Debit 10] on a player at 0.00 whole: the Debit is refunded first, then the Credit taken back", async () => {
    const { playerId } = await newPlayer({ balance: "0" });
    const batchId = uniqueId("batch");
    const credit = batchItem(playerId, { transaction_type: "Credit", amount: "10.00" });
    const debit = batchItem(playerId, { transaction_type: "Debit", amount: "10.00" });
    const applied = await wallet("POST", "/wallet/transaction/batch", {
      batch_id: batchId,
      transactions: [credit, debit],
    });
    expect(applied.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);

    const undone = await cancelByBatchId(batchId);
    expect(undone.status).toBe(200);
    expect(undone.body).toEqual({
      batch_id: batchId,
      results: [
        { transaction_id: debit.transaction_id, status: "OK", balance: "10.00" },
        { transaction_id: credit.transaction_id, status: "OK", balance: "0.00" },
      ],
      more: false,
    });
    expect(await storedBalanceMinor(playerId)).toBe(0);
    expect(await countRows("ledger_entries", playerId)).toBe(4);
    // A retry answers the same per item and changes nothing.
    const again = await cancelByBatchId(batchId);
    expect(again.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);
    expect(await countRows("ledger_entries", playerId)).toBe(4);
  });

  it("a chain of items of one player applied by several requests is undone last first, across players", async () => {
    const [a, b] = [await newPlayer({ balance: "0" }), await newPlayer({ balance: "0" })];
    const batchId = uniqueId("batch");
    // Each Debit spends the Credit before it: only last-first undoing never overdraws.
    const steps = [
      [
        batchItem(a.playerId, { transaction_type: "Credit", amount: "5.00" }),
        batchItem(b.playerId, { transaction_type: "Credit", amount: "1.00" }),
      ],
      [
        batchItem(a.playerId, { amount: "5.00" }),
        batchItem(a.playerId, { transaction_type: "Credit", amount: "2.00" }),
      ],
      [batchItem(a.playerId, { amount: "2.00" }), batchItem(b.playerId, { amount: "1.00" })],
    ];
    for (const transactions of steps) {
      const answer = await wallet("POST", "/wallet/transaction/batch", {
        batch_id: batchId,
        transactions,
      });
      expect(
        answer.body.results.every((r: { status: string }) => r.status === "OK"),
        answer.text,
      ).toBe(true);
    }
    const undone = await cancelByBatchId(batchId);
    expect(
      undone.body.results.every((r: { status: string }) => r.status === "OK"),
      undone.text,
    ).toBe(true);
    expect(undone.body.results).toHaveLength(6);
    for (const player of [a, b]) {
      expect(await storedBalanceMinor(player.playerId)).toBe(0);
      expect(await ledgerAddsUp(player.playerId)).toBe(true);
    }
  });

  it("a batch_id grown past MAX_BATCH_SIZE by several requests is undone in pages, newest first, `more` saying when to call again", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const batchId = uniqueId("batch");
    const vars = { MAX_BATCH_SIZE: "3" };
    const items = Array.from({ length: 7 }, () => batchItem(playerId, { amount: "1.00" }));
    for (const transactions of [items.slice(0, 3), items.slice(3, 6), items.slice(6)]) {
      const answer = await wallet(
        "POST",
        "/wallet/transaction/batch",
        { batch_id: batchId, transactions },
        { vars },
      );
      expect(answer.status, answer.text).toBe(200);
    }
    expect(await storedBalanceMinor(playerId)).toBe(300);

    const pages: string[][] = [];
    for (let call = 1; call <= 4; call++) {
      const page = await cancelByBatchId(batchId, vars);
      expect(page.status, page.text).toBe(200);
      expect(page.body.results.length).toBeLessThanOrEqual(3);
      expect(page.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
      pages.push(page.body.results.map((r: { transaction_id: string }) => r.transaction_id));
      expect(page.body.more, `call ${call}`).toBe(call < 3);
    }
    const newestFirst = items.map((item) => item.transaction_id).reverse();
    expect(pages).toEqual([
      newestFirst.slice(0, 3),
      newestFirst.slice(3, 6),
      newestFirst.slice(6),
      [],
    ]);
    expect(await storedBalanceMinor(playerId)).toBe(1000);
    expect(await countRows("ledger_entries", playerId)).toBe(14);
  });
});
