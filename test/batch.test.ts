import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  batchItem,
  cancel,
  countRows,
  expectErrorShape,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
  wallet,
} from "./helpers";

const postBatch = (body: unknown) => wallet("POST", "/wallet/transaction/batch", body);
const cancelBatch = (body: unknown) => wallet("DELETE", "/wallet/transaction/batch", body);

describe("POST /wallet/transaction/batch", () => {
  it("applies a batch across 50 players and answers in request order", async () => {
    const players = await Promise.all(
      Array.from({ length: 50 }, () => newPlayer({ balance: "10.00" })),
    );
    const items = players.map(({ playerId }, i) =>
      batchItem(playerId, { transaction_type: "Credit", amount: `${i}.01` }),
    );
    const batchId = uniqueId("batch");
    const answer = await postBatch({ batch_id: batchId, transactions: items });
    expect(answer.status).toBe(200);
    expect(answer.body.batch_id).toBe(batchId);
    expect(answer.body.results.map((r: { transaction_id: string }) => r.transaction_id)).toEqual(
      items.map((i) => i.transaction_id),
    );
    for (const [i, { playerId }] of players.entries()) {
      expect(answer.body.results[i]).toEqual({
        transaction_id: items[i]!.transaction_id,
        player_id: playerId,
        status: "OK",
        balance: 10 + i + 0.01,
      });
      expect(await storedBalanceMinor(playerId)).toBe(1000 + i * 100 + 1);
    }
  });

  it("decides one player's items in order against the running balance", async () => {
    const { playerId } = await newPlayer({ balance: "3.00" });
    const items = [
      batchItem(playerId, { amount: "2.00" }),
      batchItem(playerId, { amount: "2.00" }),
      batchItem(playerId, { transaction_type: "Credit", amount: "5.00" }),
      batchItem(playerId, { amount: "2.00" }),
    ];
    const answer = await postBatch(items);
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain("batch_id");
    expect(
      answer.body.results.map((r: { status: string; balance?: number }) => [r.status, r.balance]),
    ).toEqual([
      ["OK", 1],
      ["ERROR", 1],
      ["OK", 6],
      ["OK", 4],
    ]);
    expect(answer.body.results[1].error.code).toBe("INSUFFICIENT_FUNDS");
    expect(await storedBalanceMinor(playerId)).toBe(400);
  });

  it("a batch retried whole, and concurrently with itself, is applied once and answers the same", async () => {
    const players = await Promise.all(
      Array.from({ length: 5 }, () => newPlayer({ balance: "100.00" })),
    );
    const items = players.flatMap(({ playerId }) => [
      batchItem(playerId, { amount: "3.00" }),
      batchItem(playerId, { amount: "4.00" }),
    ]);
    const body = { batch_id: uniqueId("batch"), transactions: items };
    const first = await postBatch(body);
    const retries = await Promise.all(Array.from({ length: 10 }, () => postBatch(body)));
    for (const retry of retries) expect(retry.text).toBe(first.text);
    for (const { playerId } of players) {
      expect(await storedBalanceMinor(playerId)).toBe(9300);
      expect(await countRows("ledger_entries", playerId)).toBe(2);
    }
    // Retried in part: the same items answer as they did.
    const part = await postBatch({ batch_id: body.batch_id, transactions: items.slice(2, 4) });
    expect(part.body.results).toEqual(first.body.results.slice(2, 4));
  });

  it("concurrent copies of a fresh batch apply each item once", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const body = {
      transactions: Array.from({ length: 10 }, () => batchItem(playerId, { amount: "1.50" })),
    };
    const answers = await Promise.all(Array.from({ length: 8 }, () => postBatch(body)));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(await storedBalanceMinor(playerId)).toBe(8500);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("a failing item fails alone and says why; the others are applied", async () => {
    const rich = await newPlayer({ balance: "10.00" });
    const poor = await newPlayer({ balance: "1.00" });
    const items = [
      batchItem(rich.playerId, { amount: "2.00" }),
      batchItem("no-such-player"),
      batchItem(poor.playerId, { amount: "5.00" }),
      batchItem(poor.playerId, { amount: "0.50" }),
      batchItem(rich.playerId, { currency: "USD" }),
      batchItem(rich.playerId, { amount: "0.001" }),
    ];
    // A player nobody has is a per-item error where no brand has its own key; where brands are
    // listed, it refuses the batch whole (test/brands.test.ts).
    const answer = await wallet(
      "POST",
      "/wallet/transaction/batch",
      { transactions: items },
      { vars: { WALLET_HMAC_SECRETS: "" } },
    );
    expect(answer.status).toBe(200);
    expect(
      answer.body.results.map(
        (r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status,
      ),
    ).toEqual([
      "OK",
      "PLAYER_NOT_FOUND",
      "INSUFFICIENT_FUNDS",
      "OK",
      "CURRENCY_MISMATCH",
      "INVALID_REQUEST",
    ]);
    expect(answer.body.results[2].balance).toBe(1);
    expect(await storedBalanceMinor(rich.playerId)).toBe(800);
    expect(await storedBalanceMinor(poor.playerId)).toBe(50);
  });

  it("an id already used outside the batch follows the single-transaction rules", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "1.00" });
    const answer = await postBatch([
      batchItem(playerId, { transaction_id: transactionId, amount: "1.00" }),
      batchItem(playerId, { transaction_id: transactionId, amount: "2.00" }),
    ]);
    expectErrorShape(answer, 409, "DUPLICATE_TRANSACTION");
    const replay = await postBatch([
      batchItem(playerId, { transaction_id: transactionId, amount: "1" }),
    ]);
    expect(replay.body.results[0]).toMatchObject({ status: "OK", balance: 9 });
    expect(await storedBalanceMinor(playerId)).toBe(900);
  });

  it("one id twice in a batch, once without currency, is one transaction; two currencies are refused", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    const same = await postBatch([
      batchItem(playerId, { transaction_id: transactionId, currency: undefined }),
      batchItem(playerId, { transaction_id: transactionId, currency: "EUR" }),
    ]);
    expect(same.body.results.map((r: { balance: number }) => r.balance)).toEqual([9, 9]);
    const other = uniqueId("tx");
    const conflicting = await postBatch([
      batchItem(playerId, { transaction_id: other, currency: "EUR" }),
      batchItem(playerId, { transaction_id: other, currency: undefined }),
      batchItem(playerId, { transaction_id: other, currency: "USD" }),
    ]);
    expectErrorShape(conflicting, 409, "DUPLICATE_TRANSACTION");
    expect(await storedBalanceMinor(playerId)).toBe(900);
  });

  it("refuses empty, oversized and malformed batches whole, applying nothing", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    expectErrorShape(await postBatch([]), 400, "INVALID_REQUEST");
    expectErrorShape(await postBatch({ transactions: [] }), 400, "INVALID_REQUEST");
    expectErrorShape(await postBatch({ batch_id: "b" }), 400, "INVALID_REQUEST");
    const tooMany = Array.from({ length: Number(env.MAX_BATCH_SIZE) + 1 }, () =>
      batchItem(playerId, { amount: "0.01" }),
    );
    const oversized = await postBatch(tooMany);
    expectErrorShape(oversized, 400, "INVALID_REQUEST");
    expect(oversized.body.message).toContain(String(env.MAX_BATCH_SIZE));
    const oneBad = await postBatch([
      batchItem(playerId),
      batchItem(playerId, { amount: undefined }),
    ]);
    expectErrorShape(oneBad, 400, "INVALID_REQUEST");
    expect(oneBad.body.message).toContain("transactions.1.amount");
    expect(await countRows("ledger_entries", playerId)).toBe(0);
  });
});

describe("DELETE /wallet/transaction/batch", () => {
  it("cancels each listed item once, and a second time changes nothing", async () => {
    const a = await newPlayer({ balance: "10.00" });
    const b = await newPlayer({ balance: "10.00" });
    const items = [
      batchItem(a.playerId, { amount: "2.00" }),
      batchItem(b.playerId, { amount: "3.00" }),
      batchItem(a.playerId, { transaction_type: "Credit", amount: "1.00" }),
    ];
    await postBatch(items);
    const cancels = [
      { transaction_id: items[0]!.transaction_id, player_id: a.playerId },
      { transaction_id: items[1]!.transaction_id },
      { transaction_id: items[2]!.transaction_id, player_id: null },
    ];
    const first = await cancelBatch({ transactions: cancels });
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      { transaction_id: items[0]!.transaction_id, status: "OK", balance: "11.00" },
      { transaction_id: items[1]!.transaction_id, status: "OK", balance: "10.00" },
      { transaction_id: items[2]!.transaction_id, status: "OK", balance: "10.00" },
    ]);
    const second = await cancelBatch(cancels);
    expect(second.body.results.map((r: { status: string }) => r.status)).toEqual([
      "OK",
      "OK",
      "OK",
    ]);
    expect(await storedBalanceMinor(a.playerId)).toBe(1000);
    expect(await storedBalanceMinor(b.playerId)).toBe(1000);
    expect(await countRows("ledger_entries", a.playerId)).toBe(4);
  });

  it("cancels every transaction of a batch_id", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const batchId = uniqueId("batch");
    await postBatch({
      batch_id: batchId,
      transactions: [
        batchItem(playerId, { amount: "2.00" }),
        batchItem(playerId, { amount: "3.00" }),
      ],
    });
    expect(await storedBalanceMinor(playerId)).toBe(500);
    const answer = await cancelBatch({ batch_id: batchId });
    expect(answer.body.batch_id).toBe(batchId);
    expect(answer.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);
    expect(await storedBalanceMinor(playerId)).toBe(1000);
  });

  it("a batch cancel before its batch tombstones the items, and the late batch applies none of them", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const items = [
      batchItem(playerId, { amount: "2.00" }),
      batchItem(playerId, { amount: "3.00" }),
    ];
    const cancelled = await cancelBatch([
      { transaction_id: items[0]!.transaction_id, player_id: playerId },
      { transaction_id: items[1]!.transaction_id },
    ]);
    expect(cancelled.body.results).toEqual([
      { transaction_id: items[0]!.transaction_id, status: "OK", balance: "10.00" },
      { transaction_id: items[1]!.transaction_id, status: "OK", balance: "0" },
    ]);
    const late = await postBatch(items);
    expect(late.body.results.map((r: { error?: { code: string } }) => r.error?.code)).toEqual([
      "TRANSACTION_CANCELLED",
      "TRANSACTION_CANCELLED",
    ]);
    expect(await storedBalanceMinor(playerId)).toBe(1000);
    expect(await countRows("ledger_entries", playerId)).toBe(0);
  });

  it("reports per item what cannot be cancelled", async () => {
    const { playerId } = await newPlayer({ balance: "0" });
    const credit = batchItem(playerId, { transaction_type: "Credit", amount: "5.00" });
    await postBatch([credit, batchItem(playerId, { amount: "4.00" })]);
    const answer = await cancelBatch([
      { transaction_id: credit.transaction_id, player_id: playerId },
    ]);
    expect(answer.body.results[0]).toMatchObject({
      status: "ERROR",
      error: { code: "INSUFFICIENT_FUNDS" },
      balance: "1.00",
    });
    expect(await storedBalanceMinor(playerId)).toBe(100);
    expectErrorShape(await cancelBatch({}), 400, "INVALID_REQUEST");
    expectErrorShape(await cancelBatch([]), 400, "INVALID_REQUEST");
  });

  it("a single cancel of an item of a batch is seen by a later batch cancel", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const batchId = uniqueId("batch");
    const item = batchItem(playerId, { amount: "2.00" });
    await postBatch({ batch_id: batchId, transactions: [item] });
    await cancel(String(item.transaction_id), playerId);
    const answer = await cancelBatch({ batch_id: batchId });
    expect(answer.body.results).toEqual([
      { transaction_id: item.transaction_id, status: "OK", balance: "10.00" },
    ]);
    expect(await countRows("ledger_entries", playerId)).toBe(2);
  });
});
