import { describe, expect, it } from "vitest";
import { TransactionLookupResponse } from "../src/api/schemas";
import {
  admin,
  batchItem,
  cancel,
  expectErrorShape,
  newPlayer,
  transact,
  uniqueId,
  wallet,
} from "./helpers";

// GET /admin/transactions/:id: "what happened to transaction X?", as support asks it. Every status
// an id can have, with the ledger entries it caused and the money as exact decimals.

async function lookup(transactionId: string) {
  const answer = await admin("GET", `/admin/transactions/${transactionId}`);
  if (answer.status === 200) {
    const parsed = TransactionLookupResponse.strict().safeParse(answer.body);
    expect(parsed.success, `${answer.text}\n${parsed.error}`).toBe(true);
  }
  return answer;
}

describe("transaction lookup", () => {
  it("shows an applied debit: player, type, amount, batch, and its one ledger entry with the balance after", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const item = batchItem(playerId, { amount: "2.50", round_id: "r-1" });
    const batchId = uniqueId("batch");
    expect(
      (
        await wallet("POST", "/wallet/transaction/batch", {
          batch_id: batchId,
          transactions: [item],
        })
      ).status,
    ).toBe(200);

    const answer = await lookup(String(item.transaction_id));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      transaction_id: item.transaction_id,
      status: "applied",
      player_id: playerId,
      type: "Debit",
      amount: 2.5,
      currency: "EUR",
      batch_id: batchId,
      refusal: null,
      cancel: null,
    });
    expect(Date.parse(answer.body.created_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(answer.body.entries).toHaveLength(1);
    expect(answer.body.entries[0]).toMatchObject({
      transaction_id: item.transaction_id,
      effect: "apply",
      type: "Debit",
      currency: "EUR",
    });
    expect(answer.body.entries[0].metadata).toMatchObject({ round_id: "r-1" });
    // Money keeps the currency's decimals, as every admin answer writes it.
    expect(answer.text).toContain('"amount":2.50,');
    expect(answer.text).toContain('"amount":-2.50,"balance_after":97.50,');
  });

  it("shows a cancelled credit with the entry that applied it and the one that reversed it, in that order", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    expect(
      (
        await transact(playerId, {
          transaction_id: transactionId,
          transaction_type: "Credit",
          amount: "5.00",
        })
      ).status,
    ).toBe(200);
    expect((await cancel(transactionId, playerId)).status).toBe(200);

    const answer = await lookup(transactionId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: "cancelled",
      player_id: playerId,
      type: "Credit",
      refusal: null,
    });
    expect(answer.body.cancel).toMatchObject({ outcome: "reversed", batch_id: null });
    expect(answer.body.entries.map((e: { effect: string }) => e.effect)).toEqual([
      "apply",
      "reverse",
    ]);
    expect(answer.text).toContain(
      '"effect":"apply","type":"Credit","amount":5.00,"balance_after":15.00,',
    );
    expect(answer.text).toContain(
      '"effect":"reverse","type":"Credit","amount":-5.00,"balance_after":10.00,',
    );
  });

  it("shows a refused debit with the code and balance it was answered, and no ledger entry", async () => {
    const { playerId } = await newPlayer({ balance: "5.00" });
    const transactionId = uniqueId("tx");
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId, amount: "7.25" }),
      402,
      "INSUFFICIENT_FUNDS",
    );

    const answer = await lookup(transactionId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: "refused",
      player_id: playerId,
      type: "Debit",
      amount: 7.25,
      cancel: null,
      entries: [],
    });
    expect(answer.body.refusal).toMatchObject({ code: "INSUFFICIENT_FUNDS", balance: 5 });
    expect(answer.text).toContain('"balance":5.00}');
  });

  it("shows a refused currency mismatch with the currency it named, its amount in the player's decimals", async () => {
    const { playerId } = await newPlayer({ balance: "5.00" });
    const transactionId = uniqueId("tx");
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId, amount: "1.50", currency: "USD" }),
      400,
      "CURRENCY_MISMATCH",
    );

    const answer = await lookup(transactionId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: "refused",
      player_id: playerId,
      currency: "USD",
      amount: 1.5,
    });
    expect(answer.text).toContain('"amount":1.50,');
  });

  it("shows a tombstone: a cancel that came first, with or without a player, and no content", async () => {
    const { playerId } = await newPlayer();
    const owned = uniqueId("tx");
    const unowned = uniqueId("tx");
    expect((await cancel(owned, playerId)).status).toBe(200);
    expect((await cancel(unowned)).status).toBe(200);
    // The late original is refused, and the lookup still says tombstone: it was never applied.
    expectErrorShape(
      await transact(playerId, { transaction_id: owned }),
      409,
      "TRANSACTION_CANCELLED",
    );

    const withPlayer = await lookup(owned);
    expect(withPlayer.status).toBe(200);
    expect(withPlayer.body).toMatchObject({
      status: "tombstone",
      player_id: playerId,
      type: null,
      amount: null,
      entries: [],
    });
    expect(withPlayer.body.cancel).toMatchObject({ outcome: "tombstone" });
    const withoutPlayer = await lookup(unowned);
    expect(withoutPlayer.body).toMatchObject({
      status: "tombstone",
      player_id: null,
      amount: null,
      refusal: null,
      entries: [],
    });
  });

  it("answers an id the wallet never saw with 404 NOT_FOUND in the error format", async () => {
    const unknown = uniqueId("never");
    expectErrorShape(await lookup(unknown), 404, "NOT_FOUND");
    expect((await lookup(unknown)).body.message).toContain(unknown);
  });

  it("needs the admin token, and is never cached", async () => {
    const { playerId } = await newPlayer();
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId });
    expectErrorShape(
      await admin("GET", `/admin/transactions/${transactionId}`, undefined, ""),
      401,
      "UNAUTHORIZED",
    );
    expectErrorShape(
      await wallet("GET", `/admin/transactions/${transactionId}`),
      401,
      "UNAUTHORIZED",
    );
    expect((await lookup(transactionId)).headers.get("cache-control")).toBe("no-store");
  });
});
