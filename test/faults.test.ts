import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { playerWallet } from "../src/wallet/player-wallet";
import {
  admin,
  balanceText,
  batchItem,
  cancel,
  countRows,
  expectErrorShape,
  failLedgerWrites,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
  wallet,
} from "./helpers";

describe("faults (invariant 4: durable before acknowledged)", () => {
  it("a failed D1 write answers 503, leaves nothing half-applied, and the next call recovers", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    await transact(playerId, { amount: "1.00" });
    const transactionId = uniqueId("tx");
    const heal = await failLedgerWrites(`NEW.transaction_id = '${transactionId}'`);

    const failed = await transact(playerId, { transaction_id: transactionId, amount: "4.00" });
    expectErrorShape(failed, 503, "UNAVAILABLE");
    // The transactions row and the balance update of the same batch were rolled back too.
    expect(await storedBalanceMinor(playerId)).toBe(900);
    expect(await countRows("transactions", playerId)).toBe(1);
    expect(await balanceText(playerId)).toBe("9.00");
    expect((await transact(playerId, { amount: "2.00" })).text).toContain('"balance":7.00');

    await heal();
    expect(
      (await transact(playerId, { transaction_id: transactionId, amount: "4.00" })).text,
    ).toContain('"balance":3.00');
    expect(await storedBalanceMinor(playerId)).toBe(300);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("a failed cancel write changes nothing, and the retried cancel reverses once", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "4.00" });
    const heal = await failLedgerWrites(`NEW.transaction_id = '${transactionId}'`);
    expectErrorShape(await cancel(transactionId, playerId), 503, "UNAVAILABLE");
    expect(await storedBalanceMinor(playerId)).toBe(600);
    await heal();
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "10.00" });
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "10.00" });
    expect(await countRows("ledger_entries", playerId)).toBe(2);
  });

  it("a restarted player object keeps exactly-once: D1 is the authority", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    const first = await transact(playerId, { transaction_id: transactionId, amount: "4.00" });
    await transact(playerId, { amount: "1.00" });
    await evictDurableObject(playerWallet(env, playerId));

    expect((await transact(playerId, { transaction_id: transactionId, amount: "4.00" })).text).toBe(
      first.text,
    );
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId, amount: "4.01" }),
      409,
      "DUPLICATE_TRANSACTION",
    );
    expect(await balanceText(playerId)).toBe("5.00");
    await evictDurableObject(playerWallet(env, playerId));
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "9.00" });
    expect(await countRows("ledger_entries", playerId)).toBe(3);
  });

  it("after a restart, a replay the balance could no longer pay still answers its first result", async () => {
    // The restarted object does not hold the id; deciding it as new would refuse it for funds.
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    const first = await transact(playerId, { transaction_id: transactionId, amount: "8.00" });
    await evictDurableObject(playerWallet(env, playerId));
    expect((await transact(playerId, { transaction_id: transactionId, amount: "8.00" })).text).toBe(
      first.text,
    );
    await evictDurableObject(playerWallet(env, playerId));
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId, amount: "9.00" }),
      409,
      "DUPLICATE_TRANSACTION",
    );
    expect(await countRows("ledger_entries", playerId)).toBe(1);
  });

  it("a player object whose memory is stale cannot write a wrong balance", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    await transact(playerId, { amount: "1.00" });
    // Someone changes the balance behind the object's back (as a second writer would).
    await env.DB.prepare(
      "UPDATE players SET balance_minor = balance_minor - 500, opening_balance_minor = opening_balance_minor - 500 WHERE id = ?",
    )
      .bind(playerId)
      .run();
    // The guarded write fails, the object reloads from D1 and decides again on the real balance.
    expect((await transact(playerId, { amount: "1.00" })).text).toContain('"balance":3.00');
    expect(await storedBalanceMinor(playerId)).toBe(300);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("POST /admin/faults does not exist unless FAULT_INJECTION is enabled", async () => {
    const { playerId } = await newPlayer();
    const answer = await admin(
      "POST",
      "/admin/faults",
      { player_id: playerId, fail_next_writes: 1 },
      env.ADMIN_TOKEN,
      { FAULT_INJECTION: "" },
    );
    expectErrorShape(answer, 404, "NOT_FOUND");
    expect((await transact(playerId)).status).toBe(200);
  });

  it("an armed D1 failure answers 503 with nothing applied; the retry applies once", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    expect(
      (await admin("POST", "/admin/faults", { player_id: playerId, fail_next_writes: 1 })).status,
    ).toBe(200);
    const transactionId = uniqueId("tx");
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId }),
      503,
      "UNAVAILABLE",
    );
    expect(await countRows("transactions", playerId)).toBe(0);
    expect((await transact(playerId, { transaction_id: transactionId })).text).toContain(
      '"balance":9.00',
    );
    expect(await storedBalanceMinor(playerId)).toBe(900);
  });

  it("an answer lost after commit: the retry answers the first result and applies nothing twice", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    await admin("POST", "/admin/faults", { player_id: playerId, lose_next_answers: 1 });
    const transactionId = uniqueId("tx");
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId, amount: "2.00" }),
      503,
      "UNAVAILABLE",
    );
    expect(await storedBalanceMinor(playerId)).toBe(800);
    await transact(playerId, { amount: "1.00" });
    expect(
      (await transact(playerId, { transaction_id: transactionId, amount: "2.00" })).text,
    ).toContain('"balance":8.00');
    expect(await storedBalanceMinor(playerId)).toBe(700);
    expect(await countRows("ledger_entries", playerId)).toBe(2);
  });

  it("a batch item that could not be written holds back the player's later items, so the retry keeps request order", async () => {
    const { playerId } = await newPlayer({ balance: "12.00" });
    await admin("POST", "/admin/faults", { player_id: playerId, fail_next_writes: 1 });
    const body = [
      batchItem(playerId, { amount: "10.00" }),
      batchItem(playerId, { amount: "5.00" }),
    ];
    expectErrorShape(await wallet("POST", "/wallet/transaction/batch", body), 503, "UNAVAILABLE");
    expect(await storedBalanceMinor(playerId)).toBe(1200);
    const retry = await wallet("POST", "/wallet/transaction/batch", body);
    expect(
      retry.body.results.map((r: { status: string; balance: number }) => [r.status, r.balance]),
    ).toEqual([
      ["OK", 2],
      ["ERROR", 2],
    ]);
    expect(await storedBalanceMinor(playerId)).toBe(200);
  });

  it("a player object that restarts mid-stream fails the call in flight, and the retry applies once", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    await transact(playerId, { amount: "1.00" });
    await admin("POST", "/admin/faults", { player_id: playerId, restart: true });
    const transactionId = uniqueId("tx");
    const during = await transact(playerId, { transaction_id: transactionId, amount: "2.00" });
    expect(during.status).toBeGreaterThanOrEqual(500);
    const retry = await transact(playerId, { transaction_id: transactionId, amount: "2.00" });
    expect(retry.text).toContain('"balance":7.00');
    expect(await storedBalanceMinor(playerId)).toBe(700);
  });
});
