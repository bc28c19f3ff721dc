import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  admin,
  balanceText,
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

describe("POST /wallet/transaction", () => {
  it("a debit takes the amount and answers transaction_id, balance and currency", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const answer = await transact(playerId, {
      transaction_id: `debit-1-${playerId}`,
      amount: "2.50",
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(
      `{"transaction_id":"debit-1-${playerId}","balance":7.50,"currency":"EUR"}`,
    );
    expect(await storedBalanceMinor(playerId)).toBe(750);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("a credit adds the amount, from a JSON number as exactly as from a string", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const raw = JSON.stringify({
      player_id: playerId,
      transaction_id: uniqueId("tx"),
      transaction_type: "Credit",
      provider_id: "p",
      amount: "@",
    }).replace('"@"', "0.10");
    const answer = await wallet("POST", "/wallet/transaction", raw);
    expect(answer.status).toBe(200);
    expect(answer.body.balance).toBe(10.1);
    expect(await balanceText(playerId)).toBe("10.10");
  });

  it("a None transaction of amount 0 is recorded and changes nothing", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const answer = await transact(playerId, { transaction_type: "None", amount: 0 });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('"balance":10.00');
    expect(await countRows("ledger_entries", playerId)).toBe(1);
    expectErrorShape(
      await transact(playerId, { transaction_type: "None", amount: "1.00" }),
      400,
      "INVALID_REQUEST",
    );
  });

  it("0.1 + 0.2 credits add up to exactly 0.30", async () => {
    const { playerId } = await newPlayer({ balance: "0" });
    await transact(playerId, { transaction_type: "Credit", amount: 0.1 });
    const answer = await transact(playerId, { transaction_type: "Credit", amount: 0.2 });
    expect(answer.text).toContain('"balance":0.30');
    expect(await storedBalanceMinor(playerId)).toBe(30);
  });

  it("pays a Credit that carries an expired or unknown session token, keeping the token as metadata", async () => {
    // ThrillGate may send the session token from authenticate; a win must be paid even after the
    // session expired, so the token's state is never checked, only kept.
    const player = await newPlayer();
    const session = await admin("POST", `/admin/players/${player.playerId}/sessions`, {
      ttl_seconds: 1,
    });
    const auth = await wallet("POST", "/wallet/authenticate", {
      operator_id: "thrilltech",
      brand_id: "brand1",
      player_token: session.body.player_token,
      currency: "EUR",
    });
    expect(auth.status).toBe(200);
    await env.DB.prepare("UPDATE sessions SET expires_at_ms = 1 WHERE token = ?")
      .bind(auth.body.token)
      .run();
    const expired = await transact(player.playerId, {
      transaction_type: "Credit",
      amount: "5.00",
      token: auth.body.token,
    });
    expect(expired.status).toBe(200);
    const unknown = await transact(player.playerId, {
      transaction_type: "Credit",
      amount: "1.00",
      token: "no-such-token",
    });
    expect(unknown.status).toBe(200);
    expect(await balanceText(player.playerId)).toBe("1006.00");
    const ledger = await admin("GET", `/admin/players/${player.playerId}/ledger`);
    expect(
      ledger.body.entries.map((e: { metadata: { token?: string } }) => e.metadata.token),
    ).toEqual(["no-such-token", auth.body.token]);
  });

  it("keeps unknown request fields with the ledger entry as metadata", async () => {
    const { playerId } = await newPlayer();
    const transactionId = uniqueId("tx");
    await transact(playerId, {
      transaction_id: transactionId,
      round_id: "r-77",
      jackpot: { id: "jp1", level: 3 },
    });
    const ledger = await admin("GET", `/admin/players/${playerId}/ledger`);
    expect(ledger.body.entries[0]).toMatchObject({
      transaction_id: transactionId,
      effect: "apply",
      type: "Debit",
      amount: -1,
      balance_after: 999,
      metadata: { provider_id: "thrillpots", round_id: "r-77", jackpot: { id: "jp1", level: 3 } },
    });
  });

  it("a repeated debit answers the first result and is applied once (invariant 1)", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    const first = await transact(playerId, { transaction_id: transactionId, amount: "3.00" });
    await transact(playerId, { amount: "1.00" });
    const again = await transact(playerId, { transaction_id: transactionId, amount: "3.00" });
    expect(again.status).toBe(200);
    // The balance right after the first call (7.00), not the balance now (6.00).
    expect(again.text).toBe(first.text);
    expect(first.text).toContain('"balance":7.00');
    expect(await storedBalanceMinor(playerId)).toBe(600);
    expect(await countRows("ledger_entries", playerId)).toBe(2);
  });

  it("a repeat with an amount written differently (3 vs 3.00) is the same content", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "3.00" });
    expect((await transact(playerId, { transaction_id: transactionId, amount: 3 })).status).toBe(
      200,
    );
    expect(await storedBalanceMinor(playerId)).toBe(700);
  });

  it("the same id with other content is refused with DUPLICATE_TRANSACTION and changes nothing", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const other = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "3.00" });
    for (const change of [
      { amount: "3.01" },
      { transaction_type: "Credit" },
      { currency: "USD" },
    ]) {
      expectErrorShape(
        await transact(playerId, { transaction_id: transactionId, amount: "3.00", ...change }),
        409,
        "DUPLICATE_TRANSACTION",
      );
    }
    expectErrorShape(
      await transact(other.playerId, { transaction_id: transactionId, amount: "3.00" }),
      409,
      "DUPLICATE_TRANSACTION",
    );
    expect(await storedBalanceMinor(playerId)).toBe(700);
    expect(await storedBalanceMinor(other.playerId)).toBe(1000);
    expect(await countRows("ledger_entries", other.playerId)).toBe(0);
  });

  it("a debit above the balance is refused with INSUFFICIENT_FUNDS and the balance (invariant 3)", async () => {
    const { playerId } = await newPlayer({ balance: "5.00" });
    const answer = await transact(playerId, { amount: "5.01" });
    expectErrorShape(answer, 402, "INSUFFICIENT_FUNDS");
    expect(answer.text).toContain('"balance":5.00');
    expect(await storedBalanceMinor(playerId)).toBe(500);
    expect(await countRows("ledger_entries", playerId)).toBe(0);
    expect((await transact(playerId, { amount: "5.00" })).text).toContain('"balance":0.00');
  });

  it("a refused transaction stays refused: a copy sent when it could be paid gets the same answer", async () => {
    // ThrillGate was told no; applying a late copy would take money it never accounted for.
    const { playerId } = await newPlayer({ balance: "5.00" });
    const transactionId = uniqueId("tx");
    const refused = await transact(playerId, { transaction_id: transactionId, amount: "9.00" });
    expectErrorShape(refused, 402, "INSUFFICIENT_FUNDS");
    // No balance_after_minor: code from before refusals were recorded answers a copy 409, never 200.
    const row = await env.DB.prepare(
      "SELECT status, balance_after_minor, refusal_code, refusal_balance_minor FROM transactions WHERE transaction_id = ?",
    )
      .bind(transactionId)
      .first();
    expect(row).toEqual({
      status: "refused",
      balance_after_minor: null,
      refusal_code: "INSUFFICIENT_FUNDS",
      refusal_balance_minor: 500,
    });
    await transact(playerId, { transaction_type: "Credit", amount: "10.00" });
    const copy = await transact(playerId, { transaction_id: transactionId, amount: "9.00" });
    expect([copy.status, copy.text]).toEqual([refused.status, refused.text]);
    expectErrorShape(
      await transact(playerId, { transaction_id: transactionId, amount: "1.00" }),
      409,
      "DUPLICATE_TRANSACTION",
    );
    expect((await cancel(transactionId, playerId)).body).toEqual({ balance: "15.00" });
    expect(await storedBalanceMinor(playerId)).toBe(1500);
    expect(await countRows("ledger_entries", playerId)).toBe(1);
  });

  it("a currency that is not the player's is refused with CURRENCY_MISMATCH", async () => {
    const { playerId } = await newPlayer();
    expectErrorShape(await transact(playerId, { currency: "USD" }), 400, "CURRENCY_MISMATCH");
    expect(await countRows("ledger_entries", playerId)).toBe(0);
  });

  it("amounts the currency cannot hold exactly are refused, not rounded", async () => {
    const { playerId } = await newPlayer();
    const yen = await newPlayer({ currency: "JPY", balance: "1000" });
    for (const amount of [
      "1.005",
      "-1.00",
      -1,
      "1e2",
      "NaN",
      "",
      true,
      null,
      "10000000000000.01",
    ]) {
      expectErrorShape(await transact(playerId, { amount }), 400, "INVALID_REQUEST");
    }
    expectErrorShape(
      await transact(yen.playerId, { currency: "JPY", amount: "1.5" }),
      400,
      "INVALID_REQUEST",
    );
    const huge = JSON.stringify({
      player_id: playerId,
      transaction_id: uniqueId("tx"),
      transaction_type: "Debit",
      provider_id: "p",
      amount: "@",
    }).replace('"@"', "1e309");
    expectErrorShape(await wallet("POST", "/wallet/transaction", huge), 400, "INVALID_REQUEST");
    expect(await countRows("transactions", playerId)).toBe(0);
    expect((await transact(yen.playerId, { currency: "JPY", amount: 15 })).text).toContain(
      '"balance":985',
    );
  });

  it("a credit that would lift the balance above the maximum is refused", async () => {
    const { playerId } = await newPlayer({ balance: "9999999999999.00" });
    expect((await transact(playerId, { transaction_type: "Credit", amount: "1.00" })).status).toBe(
      200,
    );
    expectErrorShape(
      await transact(playerId, { transaction_type: "Credit", amount: "0.01" }),
      400,
      "INVALID_REQUEST",
    );
    expect(await storedBalanceMinor(playerId)).toBe(1_000_000_000_000_000);
  });

  it("missing fields, wrong types and an unknown type are refused, naming the field", async () => {
    const { playerId } = await newPlayer();
    for (const [change, field] of [
      [{ transaction_id: undefined }, "transaction_id"],
      [{ transaction_type: "Bet" }, "transaction_type"],
      [{ provider_id: undefined }, "provider_id"],
      [{ amount: undefined }, "amount"],
      [{ player_id: 42 }, "player_id"],
      [{ transaction_id: "x".repeat(300) }, "transaction_id"],
    ] as const) {
      const answer = await transact(playerId, change);
      expectErrorShape(answer, 400, "INVALID_REQUEST");
      expect(answer.body.message).toContain(field);
    }
    expect(await countRows("transactions", playerId)).toBe(0);
  });

  it("a body with a key twice in one object is refused, since parsers disagree on which one counts", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const body = (amounts: string) =>
      `{"player_id":"${playerId}","transaction_id":"${uniqueId("tx")}","transaction_type":"Debit","provider_id":"p",${amounts},"meta":{"a":1,"b":{"a":2},"list":[{"a":3},{"a":4}]}}`;
    const twice = await wallet(
      "POST",
      "/wallet/transaction",
      body(`"amount":"1.00","amount":"9.00"`),
    );
    expectErrorShape(twice, 400, "INVALID_REQUEST");
    expect(twice.body.message).toContain('"amount"');
    // An escaped spelling of the same key is the same key.
    expectErrorShape(
      await wallet("POST", "/wallet/transaction", body(`"amount":"1.00","amou\\u006et":"9.00"`)),
      400,
      "INVALID_REQUEST",
    );
    expect(await countRows("transactions", playerId)).toBe(0);
    // Equal keys in different objects, and equal strings as values, are fine.
    expect(
      (await wallet("POST", "/wallet/transaction", body(`"amount":"1.00","note":"amount"`))).text,
    ).toContain('"balance":9.00');
  });

  it("a body nested deeper than the parser can go is refused as such, not as broken JSON", async () => {
    const answer = await wallet(
      "POST",
      "/wallet/transaction",
      `{"meta":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
    );
    expectErrorShape(answer, 400, "INVALID_REQUEST");
    expect(answer.body.message).toBe("body is nested too deeply");
  });

  it("an unknown player is refused with PLAYER_NOT_FOUND", async () => {
    expectErrorShape(await transact("no-such-player"), 404, "PLAYER_NOT_FOUND");
  });

  it("zero-value credits are accepted when ACCEPT_ZERO_VALUE_CREDITS is true", async () => {
    expect(env.ACCEPT_ZERO_VALUE_CREDITS).toBe("true");
    const { playerId } = await newPlayer();
    expect((await transact(playerId, { transaction_type: "Credit", amount: "0" })).status).toBe(
      200,
    );
    expect(await countRows("ledger_entries", playerId)).toBe(1);
  });

  it("zero-value credits are refused with 400 when ACCEPT_ZERO_VALUE_CREDITS is false", async () => {
    const { playerId } = await newPlayer();
    const refuse = { vars: { ACCEPT_ZERO_VALUE_CREDITS: "false" } };
    expectErrorShape(
      await transact(playerId, { transaction_type: "Credit", amount: "0.00" }, refuse),
      400,
      "INVALID_REQUEST",
    );
    expect(
      (await transact(playerId, { transaction_type: "Credit", amount: "0.01" }, refuse)).status,
    ).toBe(200);
    expect(await countRows("ledger_entries", playerId)).toBe(1);
  });
});
