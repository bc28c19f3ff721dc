import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  admin,
  type Answer,
  balanceText,
  batchItem,
  cancel,
  countRows,
  databaseSnapshot,
  expectErrorShape,
  failLedgerWrites,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
  wallet,
} from "./helpers";

// POST /admin/players/{player_id}/transfers: the operator moving money in and out, on the same
// guarantees as ThrillGate's transactions (invariants 1, 3, 4 and 5) and in their one id space.

/** A transfer of 1.00 in, unless `fields` say otherwise; a string body is sent as it is. */
function transfer(
  playerId: string,
  fields: Record<string, unknown> | string = {},
): Promise<Answer> {
  const body =
    typeof fields === "string"
      ? fields
      : { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00", ...fields };
  return admin("POST", `/admin/players/${encodeURIComponent(playerId)}/transfers`, body);
}

const postBatch = (body: unknown) => wallet("POST", "/wallet/transaction/batch", body);
const cancelBatch = (body: unknown) => wallet("DELETE", "/wallet/transaction/batch", body);

async function ledgerOf(playerId: string) {
  const answer = await admin("GET", `/admin/players/${playerId}/ledger`);
  expect(answer.status).toBe(200);
  return answer.body.entries;
}

describe("transfers in and out", () => {
  it("moves the balance each way and answers the transfer, its direction, balance and currency", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const into = await transfer(playerId, { transfer_id: uniqueId("in"), amount: "2.50" });
    expect(into.status).toBe(200);
    expect(into.text).toBe(
      `{"transfer_id":"${into.body.transfer_id}","direction":"in","balance":12.50,"currency":"EUR"}`,
    );
    const out = await transfer(playerId, { direction: "out", amount: 12.3 });
    expect(out.status).toBe(200);
    expect(out.text).toContain('"direction":"out","balance":0.20,"currency":"EUR"');
    expect(await balanceText(playerId)).toBe("0.20");
    expect(await storedBalanceMinor(playerId)).toBe(20);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("writes one ledger entry per transfer, of its kind, with the reason and unknown fields as sent", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transferId = uniqueId("tr");
    const raw = `{"transfer_id":"${transferId}","direction":"out","amount":"3.00","reason":"withdrawal #88","desk":{"id":7,"rate":1.50},"__proto__":{"x":1}}`;
    expect((await transfer(playerId, raw)).status).toBe(200);
    await transfer(playerId, { direction: "in", amount: "1.00" });
    const entries = await ledgerOf(playerId);
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({
      transaction_id: transferId,
      effect: "apply",
      type: "TransferOut",
      amount: -3,
      balance_after: 7,
      currency: "EUR",
      metadata: { reason: "withdrawal #88", desk: { id: 7, rate: 1.5 } },
    });
    expect(entries[0]).toMatchObject({ type: "TransferIn", amount: 1, metadata: {} });
    const stored = await env.DB.prepare(
      "SELECT metadata FROM ledger_entries WHERE transaction_id = ?",
    )
      .bind(transferId)
      .first<{ metadata: string }>();
    expect(stored?.metadata).toBe(
      '{"reason":"withdrawal #88","desk":{"id":7,"rate":1.50},"__proto__":{"x":1}}',
    );
    const lookup = await admin("GET", `/admin/transactions/${transferId}`);
    expect(lookup.body).toMatchObject({
      status: "applied",
      type: "TransferOut",
      amount: 3,
      player_id: playerId,
      batch_id: null,
    });
  });

  it("a repeat with the same content answers the first answer and changes nothing", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const body = { transfer_id: uniqueId("tr"), direction: "out", amount: "4.00", reason: "a" };
    const first = await transfer(playerId, body);
    expect(first.body.balance).toBe(6);
    await transact(playerId, { transaction_type: "Credit", amount: "5.00" });
    const before = await databaseSnapshot();
    // The reason is not part of what a transfer is: a retry that words it differently is the same transfer.
    for (const repeat of [body, { ...body, amount: 4 }, { ...body, reason: "b" }]) {
      const again = await transfer(playerId, repeat);
      expect(again.text).toBe(first.text);
    }
    expect(await databaseSnapshot()).toEqual(before);
    expect(await storedBalanceMinor(playerId)).toBe(1100);
  });

  it("the same transfer_id with other content is 409 DUPLICATE_TRANSACTION and changes nothing", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const other = await newPlayer({ balance: "10.00" });
    const transferId = uniqueId("tr");
    expect((await transfer(playerId, { transfer_id: transferId, amount: "2.00" })).status).toBe(
      200,
    );
    const before = await databaseSnapshot();
    for (const [target, fields] of [
      [playerId, { amount: "2.01" }],
      [playerId, { amount: "2.00", direction: "out" }],
      [other.playerId, { amount: "2.00" }],
    ] as const) {
      expectErrorShape(
        await transfer(target, { transfer_id: transferId, ...fields }),
        409,
        "DUPLICATE_TRANSACTION",
      );
    }
    expect(await databaseSnapshot()).toEqual(before);
  });

  it("a transfer out above the balance is 402 INSUFFICIENT_FUNDS with the balance, and its retry answers the same", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const body = { transfer_id: uniqueId("tr"), direction: "out", amount: "10.01" };
    const before = await databaseSnapshot();
    const refused = await transfer(playerId, body);
    expectErrorShape(refused, 402, "INSUFFICIENT_FUNDS");
    expect(refused.text).toContain('"balance":10.00');
    expect(await databaseSnapshot()).toEqual(before);
    // Recorded with its id: once the money is there, the retry is still refused, never applied.
    await transfer(playerId, { amount: "5.00" });
    expect((await transfer(playerId, body)).text).toBe(refused.text);
    expect(await storedBalanceMinor(playerId)).toBe(1500);
    const exact = await transfer(playerId, { direction: "out", amount: "15.00" });
    expect(exact.body.balance).toBe(0);
  });

  it("reads amounts exactly in the player's currency and refuses 0, negatives and extra decimals, writing nothing", async () => {
    const eur = await newPlayer({ balance: "0.00" });
    expect((await transfer(eur.playerId, { amount: 0.1 })).status).toBe(200);
    expect((await transfer(eur.playerId, { amount: 0.2 })).status).toBe(200);
    expect(await balanceText(eur.playerId)).toBe("0.30");
    const jpy = await newPlayer({ currency: "JPY", balance: "100" });
    const yen = await transfer(jpy.playerId, { direction: "out", amount: "40" });
    expect(yen.text).toContain('"balance":60,"currency":"JPY"');
    const before = await databaseSnapshot();
    for (const [player, amount] of [
      [eur, "0"],
      [eur, 0],
      [eur, "0.00"],
      [eur, "-1.00"],
      [eur, -1],
      [eur, "1.001"],
      [eur, "1e2"],
      [eur, "abc"],
      [eur, ""],
      [eur, null],
      [eur, "99999999999999999999"],
      [jpy, "1.5"],
    ] as const) {
      const transferId = uniqueId("tr");
      expectErrorShape(
        await transfer(player.playerId, { transfer_id: transferId, amount }),
        400,
        "INVALID_REQUEST",
      );
    }
    expect(await databaseSnapshot()).toEqual(before);
    expect(await countRows("transactions", eur.playerId)).toBe(2);
  });

  it("refuses a body without its fields, with a currency or player_id, or too long a reason", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const before = await databaseSnapshot();
    for (const body of [
      { transfer_id: uniqueId("tr"), direction: "in" },
      { direction: "in", amount: "1.00" },
      { transfer_id: uniqueId("tr"), direction: "sideways", amount: "1.00" },
      { transfer_id: "", direction: "in", amount: "1.00" },
      { transfer_id: "x".repeat(256), direction: "in", amount: "1.00" },
      { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00", currency: "EUR" },
      { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00", player_id: playerId },
      { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00", reason: 5 },
      { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00", reason: "r".repeat(1001) },
    ]) {
      expectErrorShape(await transfer(playerId, JSON.stringify(body)), 400, "INVALID_REQUEST");
    }
    expectErrorShape(await transfer(playerId, "[]"), 400, "INVALID_REQUEST");
    expectErrorShape(await transfer(playerId, "{"), 400, "INVALID_REQUEST");
    expect(await databaseSnapshot()).toEqual(before);
    expect(
      (await transfer(playerId, { reason: "r".repeat(1000), note: null, amount: "1.00" })).status,
    ).toBe(200);
  });

  it("answers 404 for an unknown player and 401 without the admin token, writing nothing", async () => {
    const { playerId } = await newPlayer();
    const before = await databaseSnapshot();
    const nobody = uniqueId("nobody");
    expectErrorShape(await transfer(nobody), 404, "PLAYER_NOT_FOUND");
    const unauthorised = await admin(
      "POST",
      `/admin/players/${playerId}/transfers`,
      { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00" },
      "",
    );
    expectErrorShape(unauthorised, 401, "UNAUTHORIZED");
    expect(await databaseSnapshot()).toEqual(before);
    expect(await countRows("transactions", nobody)).toBe(0);
    expect(await countRows("transactions", playerId)).toBe(0);
  });
});

describe("one id space for transfers and ThrillGate transactions", () => {
  it("a ThrillGate transaction with a transfer's id is 409 DUPLICATE_TRANSACTION and changes nothing", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transferId = uniqueId("tr");
    await transfer(playerId, { transfer_id: transferId, direction: "in", amount: "1.00" });
    const refusedId = uniqueId("tr");
    await transfer(playerId, { transfer_id: refusedId, direction: "out", amount: "99.00" });
    const before = await databaseSnapshot();
    for (const id of [transferId, refusedId]) {
      for (const [type, amount] of [
        ["Credit", "1.00"],
        ["Debit", "1.00"],
        ["Debit", "99.00"],
        ["None", "0"],
      ]) {
        expectErrorShape(
          await transact(playerId, { transaction_id: id, transaction_type: type, amount }),
          409,
          "DUPLICATE_TRANSACTION",
        );
      }
    }
    const batch = await postBatch([
      batchItem(playerId, { transaction_id: transferId, transaction_type: "Credit" }),
    ]);
    expect(batch.body.results[0]).toMatchObject({
      status: "ERROR",
      error: { code: "DUPLICATE_TRANSACTION" },
    });
    expect(await databaseSnapshot()).toEqual(before);
  });

  it("a transfer with a ThrillGate id (applied, refused or cancelled first) is 409 DUPLICATE_TRANSACTION", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const debit = uniqueId("tx");
    await transact(playerId, { transaction_id: debit, amount: "1.00" });
    const refused = uniqueId("tx");
    await transact(playerId, { transaction_id: refused, amount: "99.00" });
    const tombstone = uniqueId("tx");
    await cancel(tombstone, playerId);
    const orphan = uniqueId("tx");
    await cancel(orphan, null);
    const before = await databaseSnapshot();
    for (const id of [debit, refused, tombstone, orphan]) {
      for (const direction of ["in", "out"]) {
        expectErrorShape(
          await transfer(playerId, { transfer_id: id, direction, amount: "1.00" }),
          409,
          "DUPLICATE_TRANSACTION",
        );
      }
    }
    expect(await databaseSnapshot()).toEqual(before);
  });

  it("a ThrillGate cancel of a transfer id is 409 DUPLICATE_TRANSACTION and reverses nothing, alone or in a batch", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const into = uniqueId("tr");
    const out = uniqueId("tr");
    await transfer(playerId, { transfer_id: into, direction: "in", amount: "5.00" });
    await transfer(playerId, { transfer_id: out, direction: "out", amount: "2.00" });
    const before = await databaseSnapshot();
    for (const id of [into, out]) {
      expectErrorShape(await cancel(id, playerId), 409, "DUPLICATE_TRANSACTION");
      expectErrorShape(await cancel(id, null), 409, "DUPLICATE_TRANSACTION");
    }
    const batch = await cancelBatch({
      transactions: [{ transaction_id: into, player_id: playerId }, { transaction_id: out }],
    });
    expect(batch.status).toBe(200);
    for (const result of batch.body.results)
      expect(result).toMatchObject({ status: "ERROR", error: { code: "DUPLICATE_TRANSACTION" } });
    expect(await databaseSnapshot()).toEqual(before);
    expect(await storedBalanceMinor(playerId)).toBe(1300);
    // Still a transfer: its own repeat answers as before.
    expect(
      (await transfer(playerId, { transfer_id: into, direction: "in", amount: "5.00" })).body
        .balance,
    ).toBe(15);
  });
});

describe("transfers under load and faults", () => {
  it("100 concurrent transfers out of 1.00 on 50.00 apply exactly 50, never overdraw, each once", async () => {
    const { playerId } = await newPlayer({ balance: "50.00" });
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => transfer(playerId, { direction: "out", amount: "1.00" })),
    );
    const applied = answers.filter((a) => a.status === 200);
    expect(applied).toHaveLength(50);
    for (const refused of answers.filter((a) => a.status !== 200))
      expectErrorShape(refused, 402, "INSUFFICIENT_FUNDS");
    expect(new Set(applied.map((a) => a.body.balance)).size).toBe(50);
    expect(await storedBalanceMinor(playerId)).toBe(0);
    expect(await countRows("ledger_entries", playerId)).toBe(50);
    expect(await countRows("transactions", playerId)).toBe(100);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("transfers out racing debits share the balance and never overdraw", async () => {
    const { playerId } = await newPlayer({ balance: "30.00" });
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 2 === 0
          ? transfer(playerId, { direction: "out", amount: "1.00" })
          : transact(playerId, { amount: "1.00" }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(30);
    expect(answers.filter((a) => a.status === 402)).toHaveLength(30);
    expect(await storedBalanceMinor(playerId)).toBe(0);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("50 concurrent copies of one transfer apply it once and all answer the same", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const body = { transfer_id: uniqueId("tr"), direction: "out", amount: "7.00" };
    const answers = await Promise.all(Array.from({ length: 50 }, () => transfer(playerId, body)));
    expect(new Set(answers.map((a) => `${a.status} ${a.text}`))).toEqual(
      new Set([
        `200 {"transfer_id":"${body.transfer_id}","direction":"out","balance":93.00,"currency":"EUR"}`,
      ]),
    );
    expect(await storedBalanceMinor(playerId)).toBe(9300);
    expect(await countRows("ledger_entries", playerId)).toBe(1);
  });

  it("a group of transfers whose write fails tells no caller success for it; the bad one fails alone", async () => {
    const { playerId } = await newPlayer({ balance: "100.00" });
    const ids = Array.from({ length: 20 }, () => uniqueId("tr"));
    const poisoned = ids[7] ?? "";
    const heal = await failLedgerWrites(`NEW.transaction_id = '${poisoned}'`);
    const answers = await Promise.all(
      ids.map((id, i) =>
        transfer(playerId, { transfer_id: id, direction: i % 2 ? "in" : "out", amount: "1.00" }),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      const applied = await env.DB.prepare(
        "SELECT count(*) AS n FROM ledger_entries WHERE transaction_id = ?",
      )
        .bind(ids[i])
        .first<{ n: number }>();
      expect(answer.status === 200, `${ids[i]} ${answer.status}`).toBe(applied?.n === 1);
    }
    expectErrorShape(answers[7]!, 503, "UNAVAILABLE");
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    await heal();
    const retried = await transfer(playerId, {
      transfer_id: poisoned,
      direction: "in",
      amount: "1.00",
    });
    expect(retried.status).toBe(200);
    expect(await storedBalanceMinor(playerId)).toBe(10000);
    expect(await countRows("ledger_entries", playerId)).toBe(20);
  });

  it("a transfer whose answer was lost is 503, and its retry answers it as applied, once", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const body = { transfer_id: uniqueId("tr"), direction: "out", amount: "4.00" };
    await admin("POST", "/admin/faults", { player_id: playerId, lose_next_answers: 1 });
    expectErrorShape(await transfer(playerId, body), 503, "UNAVAILABLE");
    const retry = await transfer(playerId, body);
    expect(retry.status).toBe(200);
    expect(retry.body.balance).toBe(6);
    expect(await countRows("ledger_entries", playerId)).toBe(1);
    await admin("POST", "/admin/faults", { player_id: playerId, fail_next_writes: 1 });
    const failed = { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00" };
    expectErrorShape(await transfer(playerId, failed), 503, "UNAVAILABLE");
    expect(await storedBalanceMinor(playerId)).toBe(600);
    expect((await transfer(playerId, failed)).body.balance).toBe(7);
  });
});

describe("reconciliation with transfers", () => {
  it("counts transfers, and reports a transfer reversed behind the wallet's back", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transferId = uniqueId("tr");
    await transfer(playerId, { transfer_id: transferId, direction: "in", amount: "3.00" });
    await transfer(playerId, { direction: "out", amount: "1.00" });
    const ok = await admin("GET", "/admin/reconcile");
    expect(ok.body).toMatchObject({ ok: true, balance_mismatches: [], transaction_problems: [] });
    expect(ok.body.transfers_checked).toBeGreaterThanOrEqual(2);

    // Reverse the transfer the way a cancel would (status, entry, balance): the balance adds up,
    // but a transfer is final.
    await env.DB.batch([
      env.DB.prepare("UPDATE transactions SET status = 'cancelled' WHERE transaction_id = ?").bind(
        transferId,
      ),
      env.DB.prepare("UPDATE players SET balance_minor = balance_minor - 300 WHERE id = ?").bind(
        playerId,
      ),
      env.DB.prepare(
        `INSERT INTO ledger_entries (player_id, transaction_id, effect, type, delta_minor, balance_after_minor, currency, created_at_ms)
         VALUES (?, ?, 'reverse', 'TransferIn', -300, 900, 'EUR', 0)`,
      ).bind(playerId, transferId),
    ]);
    const tampered = await admin("GET", "/admin/reconcile");
    expect(tampered.body.ok).toBe(false);
    expect(tampered.body.balance_mismatches).toEqual([]);
    expect(tampered.body.transaction_problems).toEqual([
      {
        transaction_id: transferId,
        status: "cancelled",
        applying_entries: 1,
        reversing_entries: 1,
      },
    ]);
    // An entry of another type than its id's is reported too.
    await env.DB.batch([
      env.DB.prepare(
        "DELETE FROM ledger_entries WHERE transaction_id = ? AND effect = 'reverse'",
      ).bind(transferId),
      env.DB.prepare("UPDATE transactions SET status = 'applied' WHERE transaction_id = ?").bind(
        transferId,
      ),
      env.DB.prepare("UPDATE players SET balance_minor = balance_minor + 300 WHERE id = ?").bind(
        playerId,
      ),
      env.DB.prepare(
        "UPDATE ledger_entries SET type = 'Credit' WHERE transaction_id = ? AND effect = 'apply'",
      ).bind(transferId),
    ]);
    expect((await admin("GET", "/admin/reconcile")).body.transaction_problems).toEqual([
      { transaction_id: transferId, status: "applied", applying_entries: 1, reversing_entries: 0 },
    ]);
    await env.DB.prepare(
      "UPDATE ledger_entries SET type = 'TransferIn' WHERE transaction_id = ? AND effect = 'apply'",
    )
      .bind(transferId)
      .run();
    expect((await admin("GET", "/admin/reconcile")).body.ok).toBe(true);
  });
});
