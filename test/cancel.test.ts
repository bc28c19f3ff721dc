import { describe, expect, it } from "vitest";
import {
  admin,
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

describe("DELETE /wallet/cancel (invariant 2: cancel is final)", () => {
  it("cancelling a debit gives the amount back and answers the balance as a string", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "4.00" });
    const answer = await cancel(transactionId, playerId);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"balance":"10.00"}');
    expect(await storedBalanceMinor(playerId)).toBe(1000);
    const ledger = await admin("GET", `/admin/players/${playerId}/ledger`);
    expect(
      ledger.body.entries.map((e: { effect: string; amount: number }) => [e.effect, e.amount]),
    ).toEqual([
      ["reverse", 4],
      ["apply", -4],
    ]);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("cancelling a credit takes the amount back", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, {
      transaction_id: transactionId,
      transaction_type: "Credit",
      amount: "2.50",
    });
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "10.00" });
  });

  it("cancelling twice reverses once and answers the current balance", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "4.00" });
    await cancel(transactionId, playerId);
    await transact(playerId, { amount: "1.00" });
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "9.00" });
    expect(await storedBalanceMinor(playerId)).toBe(900);
    expect(await countRows("ledger_entries", playerId)).toBe(3);
  });

  it("a replay of a cancelled transaction answers its first result and is not applied again", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    const first = await transact(playerId, { transaction_id: transactionId, amount: "4.00" });
    await cancel(transactionId, playerId);
    expect((await transact(playerId, { transaction_id: transactionId, amount: "4.00" })).text).toBe(
      first.text,
    );
    expect(await storedBalanceMinor(playerId)).toBe(1000);
  });

  it("a cancel of an unknown id is remembered, and the late original is never applied", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "10.00" });
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId, amount: "4.00" }),
      409,
      "TRANSACTION_CANCELLED",
    );
    expect(await storedBalanceMinor(playerId)).toBe(1000);
    expect(await countRows("ledger_entries", playerId)).toBe(0);
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "10.00" });
  });

  it("a cancel without player_id finds the owner of the id", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "4.00" });
    expect((await cancel(transactionId, null)).body).toEqual({ balance: "10.00" });
    expect((await cancel(transactionId)).body).toEqual({ balance: "10.00" });
    expect(await storedBalanceMinor(playerId)).toBe(1000);
  });

  it("a cancel of an unknown id without player_id answers balance 0 and blocks the late original for any player", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    expect((await cancel(transactionId, null)).body).toEqual({ balance: "0" });
    expect((await cancel(transactionId, null)).body).toEqual({ balance: "0" });
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId }),
      409,
      "TRANSACTION_CANCELLED",
    );
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "10.00" });
    expect(await storedBalanceMinor(playerId)).toBe(1000);
  });

  it("a credit whose money was spent cannot be cancelled: 402, nothing changes", async () => {
    const { playerId } = await newPlayer({ balance: "0" });
    const transactionId = uniqueId("tx");
    await transact(playerId, {
      transaction_id: transactionId,
      transaction_type: "Credit",
      amount: "5.00",
    });
    await transact(playerId, { amount: "3.00" });
    const answer = await cancel(transactionId, playerId);
    expectErrorShape(answer, 402, "INSUFFICIENT_FUNDS");
    expect(answer.text).toContain('"balance":2.00');
    expect(await storedBalanceMinor(playerId)).toBe(200);
    expect(await countRows("ledger_entries", playerId)).toBe(2);
  });

  it("a cancel naming the wrong player is refused and changes nothing", async () => {
    const owner = await newPlayer({ balance: "10.00" });
    const stranger = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(owner.playerId, { transaction_id: transactionId, amount: "4.00" });
    expectErrorShape(await cancel(transactionId, stranger.playerId), 400, "INVALID_REQUEST");
    expect(await storedBalanceMinor(owner.playerId)).toBe(600);
    expect(await storedBalanceMinor(stranger.playerId)).toBe(1000);
  });

  it("refuses malformed cancel requests and unknown players", async () => {
    expectErrorShape(
      await wallet("DELETE", "/wallet/cancel", { player_id: "x" }),
      400,
      "INVALID_REQUEST",
    );
    expectErrorShape(await wallet("DELETE", "/wallet/cancel", "{"), 400, "INVALID_REQUEST");
    expectErrorShape(await cancel(uniqueId("tx"), "no-such-player"), 404, "PLAYER_NOT_FOUND");
  });
});
