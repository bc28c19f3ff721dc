import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, countRows, expectErrorShape, newPlayer, wallet, type TestPlayer } from "./helpers";

function authenticateBody(player: TestPlayer, overrides: Record<string, unknown> = {}) {
  return {
    operator_id: player.operatorId,
    brand_id: player.brandId,
    player_token: player.token,
    source_id: "game1",
    currency: player.currency,
    ...overrides,
  };
}

describe("POST /wallet/authenticate", () => {
  it("answers the player's profile, balance and a fresh session token", async () => {
    const player = await newPlayer({
      balance: "100001927.79",
      nickname: "Ace",
      country: "MT",
      segments: ["vip"],
    });
    const answer = await wallet("POST", "/wallet/authenticate", authenticateBody(player));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      id: player.playerId,
      token: expect.any(String),
      currency: "EUR",
      balance: 100001927.79,
      operator_id: "thrilltech",
      brand_id: "brand1",
      nickname: "Ace",
      gender: null,
      country: "MT",
      date_of_birth: null,
      jurisdiction: null,
      segments: ["vip"],
    });
    expect(answer.body.token).not.toBe(player.token);
    // The balance is written as exact decimal text with the currency's two decimals.
    expect(answer.text).toContain('"balance":100001927.79');
  });

  it("accepts the session token it handed out", async () => {
    const player = await newPlayer();
    const first = await wallet("POST", "/wallet/authenticate", authenticateBody(player));
    const again = await wallet(
      "POST",
      "/wallet/authenticate",
      authenticateBody(player, { player_token: first.body.token }),
    );
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(player.playerId);
  });

  it("writes a whole-unit balance with its decimals (1000.00, not 1000)", async () => {
    const player = await newPlayer({ balance: 1000 });
    const answer = await wallet("POST", "/wallet/authenticate", authenticateBody(player));
    expect(answer.text).toContain('"balance":1000.00');
  });

  it("accepts game_code (an older request) in place of source_id, or neither, and records the source", async () => {
    const player = await newPlayer();
    const { source_id: _unused, ...withoutSource } = authenticateBody(player);
    const byGameCode = await wallet("POST", "/wallet/authenticate", {
      ...withoutSource,
      game_code: "AwesomeJackpotGameCode",
      other: 1,
    });
    expect(byGameCode.status).toBe(200);
    const neither = await wallet("POST", "/wallet/authenticate", withoutSource);
    expect(neither.status).toBe(200);
    const both = await wallet("POST", "/wallet/authenticate", {
      ...authenticateBody(player),
      game_code: "ignored",
    });
    expect(both.status).toBe(200);
    const sources = await Promise.all(
      [byGameCode, neither, both].map((a) =>
        env.DB.prepare("SELECT source_id FROM sessions WHERE token = ?")
          .bind(a.body.token)
          .first<{ source_id: string | null }>(),
      ),
    );
    expect(sources.map((row) => row?.source_id)).toEqual(["AwesomeJackpotGameCode", null, "game1"]);
  });

  it("refuses a game_code that is not a string", async () => {
    const player = await newPlayer();
    const answer = await wallet(
      "POST",
      "/wallet/authenticate",
      authenticateBody(player, { game_code: 12 }),
    );
    expectErrorShape(answer, 400, "INVALID_REQUEST");
    expect(answer.body.message).toContain("game_code");
  });

  it("refuses an unknown token with INVALID_TOKEN", async () => {
    const player = await newPlayer();
    const answer = await wallet(
      "POST",
      "/wallet/authenticate",
      authenticateBody(player, { player_token: "no-such-token" }),
    );
    expectErrorShape(answer, 401, "INVALID_TOKEN");
  });

  it("refuses an expired token", async () => {
    const player = await newPlayer();
    const short = await admin("POST", `/admin/players/${player.playerId}/sessions`, {
      ttl_seconds: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const answer = await wallet(
      "POST",
      "/wallet/authenticate",
      authenticateBody(player, { player_token: short.body.player_token }),
    );
    expectErrorShape(answer, 401, "INVALID_TOKEN");
  });

  it("refuses a token presented for another operator or brand", async () => {
    const player = await newPlayer();
    for (const other of [{ operator_id: "other-operator" }, { brand_id: "brand2" }]) {
      const answer = await wallet("POST", "/wallet/authenticate", authenticateBody(player, other));
      expectErrorShape(answer, 401, "INVALID_TOKEN");
    }
    expect(await countRows("sessions", player.playerId)).toBe(1);
  });

  it("refuses a currency that is not the player's, creating no session", async () => {
    const player = await newPlayer();
    const answer = await wallet(
      "POST",
      "/wallet/authenticate",
      authenticateBody(player, { currency: "USD" }),
    );
    expectErrorShape(answer, 400, "CURRENCY_MISMATCH");
    expect(await countRows("sessions", player.playerId)).toBe(1);
  });

  it("refuses malformed JSON with INVALID_REQUEST", async () => {
    for (const raw of ['{"operator_id": "thrilltech",', "", "not json", "\u00ff\u00fe"]) {
      const answer = await wallet("POST", "/wallet/authenticate", raw);
      expectErrorShape(answer, 400, "INVALID_REQUEST");
    }
  });

  it("refuses missing fields and wrong types, naming the field", async () => {
    const player = await newPlayer();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ operator_id: undefined }, "operator_id"],
      [{ brand_id: 7 }, "brand_id"],
      [{ player_token: null }, "player_token"],
      [{ currency: undefined }, "currency"],
      [{ source_id: 12 }, "source_id"],
    ];
    for (const [change, field] of cases) {
      const answer = await wallet("POST", "/wallet/authenticate", authenticateBody(player, change));
      expectErrorShape(answer, 400, "INVALID_REQUEST");
      expect(answer.body.message).toContain(field);
    }
    const notAnObject = await wallet("POST", "/wallet/authenticate", [1, 2]);
    expectErrorShape(notAnObject, 400, "INVALID_REQUEST");
    expect(await countRows("sessions", player.playerId)).toBe(1);
  });
});
