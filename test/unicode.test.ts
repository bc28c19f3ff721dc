import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_ID_LENGTH } from "../src/api/schemas";
import { admin, databaseSnapshot, expectErrorShape, newPlayer, uniqueId, wallet } from "./helpers";

// Issue 12.2: a string the wallet keys on that is not well-formed Unicode (a lone surrogate, valid
// JSON as \ud800) was applied, stored by D1 as U+FFFD, and then met another id in the same row:
// 503 forever. Every string and key of a body is now refused unless well-formed, before anything
// is written; what is accepted (non-ASCII, emoji, ids of MAX_ID_LENGTH) round-trips through D1.

/** JSON text with `\ud800` written as the escape JSON allows (JSON.stringify writes it so too). */
const LONE = "\\ud800";

describe("strings that are not well-formed Unicode are refused with 400 before anything is written", () => {
  it("in every field of every wallet route, in metadata keys and values, and in batch items", async () => {
    const player = await newPlayer();
    const tx = (fields: string) =>
      `{"player_id":"${player.playerId}","transaction_id":"${uniqueId("u")}","transaction_type":"Credit","provider_id":"thrillpots","amount":"1.00"${fields}}`;
    const bodies: [string, string, string][] = [
      [
        "POST",
        "/wallet/transaction",
        `{"player_id":"${player.playerId}","transaction_id":"x-${LONE}","transaction_type":"Credit","provider_id":"thrillpots","amount":"1.00"}`,
      ],
      [
        "POST",
        "/wallet/transaction",
        `{"player_id":"${player.playerId}${LONE}","transaction_id":"${uniqueId("u")}","transaction_type":"Credit","provider_id":"thrillpots","amount":"1.00"}`,
      ],
      ["POST", "/wallet/transaction", tx(`,"round_id":"r-${LONE}"`)],
      ["POST", "/wallet/transaction", tx(`,"currency":"EUR${LONE}"`)],
      ["POST", "/wallet/transaction", tx(`,"jackpot":{"id":"jp-\\udc00"}`)],
      ["POST", "/wallet/transaction", tx(`,"k${LONE}":1`)],
      ["POST", "/wallet/transaction", tx(`,"list":["a","\\udfff"]`)],
      [
        "DELETE",
        "/wallet/cancel",
        `{"transaction_id":"x-${LONE}","player_id":"${player.playerId}"}`,
      ],
      ["DELETE", "/wallet/cancel", `{"transaction_id":"x-${LONE}"}`],
      ["POST", "/wallet/transaction/batch", `{"batch_id":"b-${LONE}","transactions":[${tx("")}]}`],
      ["POST", "/wallet/transaction/batch", `[${tx("")},${tx(`,"round":"\\udbff"`)}]`],
      ["DELETE", "/wallet/transaction/batch", `{"batch_id":"b-${LONE}"}`],
      ["DELETE", "/wallet/transaction/batch", `[{"transaction_id":"x-${LONE}"}]`],
      [
        "POST",
        "/wallet/authenticate",
        `{"operator_id":"thrilltech","brand_id":"brand1","player_token":"${player.token}${LONE}","currency":"EUR"}`,
      ],
      [
        "POST",
        "/wallet/authenticate",
        `{"operator_id":"thrilltech${LONE}","brand_id":"brand1","player_token":"${player.token}","currency":"EUR"}`,
      ],
      [
        "POST",
        "/wallet/authenticate",
        `{"operator_id":"thrilltech","brand_id":"brand1","player_token":"${player.token}","source_id":"g${LONE}","currency":"EUR"}`,
      ],
    ];
    const before = await databaseSnapshot();
    for (const [method, path, body] of bodies) {
      const answer = await wallet(method, path, body);
      expectErrorShape(answer, 400, "INVALID_REQUEST");
    }
    const created = await admin(
      "POST",
      "/admin/players",
      `{"player_id":"p-${LONE}","operator_id":"thrilltech","brand_id":"brand1","currency":"EUR","balance":"1.00"}`,
    );
    expectErrorShape(created, 400, "INVALID_REQUEST");
    expect(await databaseSnapshot()).toEqual(before);
  });

  it("the issue's case: x-\\ud800 for player A, then for player B, is a 400 each time, never a 503", async () => {
    const [a, b] = [await newPlayer(), await newPlayer()];
    const id = `x-${LONE}-${uniqueId("s")}`;
    for (const player of [a, b, a]) {
      const body = `{"player_id":"${player.playerId}","transaction_id":"${id}","transaction_type":"Debit","provider_id":"thrillpots","amount":"1.00"}`;
      expectErrorShape(await wallet("POST", "/wallet/transaction", body), 400, "INVALID_REQUEST");
      expectErrorShape(
        await wallet("DELETE", "/wallet/cancel", `{"transaction_id":"${id}"}`),
        400,
        "INVALID_REQUEST",
      );
    }
    // A U+FFFD written as such is well-formed: an id like any other, taken once.
    const replacement = `x-\ufffd-${uniqueId("s")}`;
    const first = await wallet("POST", "/wallet/transaction", {
      player_id: a.playerId,
      transaction_id: replacement,
      transaction_type: "Debit",
      provider_id: "thrillpots",
      amount: "1.00",
    });
    expect(first.status).toBe(200);
    const other = await wallet("POST", "/wallet/transaction", {
      player_id: b.playerId,
      transaction_id: replacement,
      transaction_type: "Debit",
      provider_id: "thrillpots",
      amount: "1.00",
    });
    expectErrorShape(other, 409, "DUPLICATE_TRANSACTION");
  });

  it("a query parameter that is not valid percent-encoded UTF-8 is refused with 400", async () => {
    for (const raw of ["%ED%A0%80", "%FF", "%zz", "a%", "%E0%A4"]) {
      expectErrorShape(
        await wallet("GET", `/wallet/balance?player_id=${raw}`),
        400,
        "INVALID_REQUEST",
      );
    }
  });
});

describe("ids that are well-formed round-trip through D1 exactly", () => {
  it("non-ASCII and emoji ids, and ids of exactly MAX_ID_LENGTH UTF-16 units, are stored and read back as sent", async () => {
    const playerId = `plä-😀-${uniqueId("u")}`;
    const created = await admin("POST", "/admin/players", {
      player_id: playerId,
      operator_id: "opé-😀",
      brand_id: "brând",
      currency: "EUR",
      balance: "10.00",
    });
    expect(created.status).toBe(201);
    const emojiTx = `tx-日本語-😀-${uniqueId("u")}`;
    // 255 units with surrogate pairs inside: the limit counts UTF-16 units, and a pair is never cut.
    const longTx = `${uniqueId("l")}-${"😀".repeat(100)}`.padEnd(MAX_ID_LENGTH, "é");
    expect(longTx.length).toBe(MAX_ID_LENGTH);
    const longProvider = "p".repeat(MAX_ID_LENGTH);
    for (const transactionId of [emojiTx, longTx]) {
      const body = {
        player_id: playerId,
        transaction_id: transactionId,
        transaction_type: "Debit",
        provider_id: longProvider,
        amount: "1.00",
      };
      const first = await wallet("POST", "/wallet/transaction", body);
      expect(first.status, first.text).toBe(200);
      expect(first.body.transaction_id).toBe(transactionId);
      const stored = await env.DB.prepare(
        "SELECT transaction_id, player_id FROM transactions WHERE transaction_id = ?",
      )
        .bind(transactionId)
        .first();
      expect(stored).toEqual({ transaction_id: transactionId, player_id: playerId });
      // A replay finds it (same bytes, same row), and its cancel finds its owner.
      expect((await wallet("POST", "/wallet/transaction", body)).text).toBe(first.text);
    }
    expect((await wallet("DELETE", "/wallet/cancel", { transaction_id: emojiTx })).body).toEqual({
      balance: "9.00",
    });
    const balance = await wallet(
      "GET",
      `/wallet/balance?player_id=${encodeURIComponent(playerId)}`,
    );
    expect(balance.text).toBe('{"balance":9.00}');
    const row = await env.DB.prepare("SELECT id, operator_id, brand_id FROM players WHERE id = ?")
      .bind(playerId)
      .first();
    expect(row).toEqual({ id: playerId, operator_id: "opé-😀", brand_id: "brând" });
  });

  it("every id field refuses MAX_ID_LENGTH + 1 units with 400, on the wallet and admin routes", async () => {
    const player = await newPlayer();
    const long = "i".repeat(MAX_ID_LENGTH + 1);
    const tx = {
      player_id: player.playerId,
      transaction_id: uniqueId("u"),
      transaction_type: "Credit",
      provider_id: "thrillpots",
      amount: "1.00",
    };
    const before = await databaseSnapshot();
    const cases: [string, string, unknown][] = [
      ["POST", "/wallet/transaction", { ...tx, transaction_id: long }],
      ["POST", "/wallet/transaction", { ...tx, player_id: long }],
      ["POST", "/wallet/transaction", { ...tx, provider_id: long }],
      ["POST", "/wallet/transaction/batch", { batch_id: long, transactions: [tx] }],
      ["DELETE", "/wallet/cancel", { transaction_id: long }],
      ["DELETE", "/wallet/cancel", { transaction_id: tx.transaction_id, player_id: long }],
      ["DELETE", "/wallet/transaction/batch", { batch_id: long }],
      [
        "POST",
        "/wallet/authenticate",
        { operator_id: long, brand_id: "brand1", player_token: player.token, currency: "EUR" },
      ],
      [
        "POST",
        "/wallet/authenticate",
        { operator_id: "thrilltech", brand_id: long, player_token: player.token, currency: "EUR" },
      ],
      [
        "POST",
        "/wallet/authenticate",
        {
          operator_id: "thrilltech",
          brand_id: "brand1",
          player_token: player.token,
          source_id: long,
          currency: "EUR",
        },
      ],
      [
        "POST",
        "/wallet/authenticate",
        {
          operator_id: "thrilltech",
          brand_id: "brand1",
          player_token: "t".repeat(513),
          currency: "EUR",
        },
      ],
    ];
    for (const [method, path, body] of cases)
      expectErrorShape(await wallet(method, path, body), 400, "INVALID_REQUEST");
    expectErrorShape(
      await wallet("GET", `/wallet/balance?player_id=${long}`),
      400,
      "INVALID_REQUEST",
    );
    expectErrorShape(await admin("GET", `/admin/players/${long}`), 400, "INVALID_REQUEST");
    expectErrorShape(
      await admin("POST", "/admin/players", {
        player_id: long,
        operator_id: "o",
        brand_id: "b",
        currency: "EUR",
        balance: "1",
      }),
      400,
      "INVALID_REQUEST",
    );
    expect(await databaseSnapshot()).toEqual(before);
  });
});
