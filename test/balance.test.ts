import { describe, expect, it } from "vitest";
import { admin, expectErrorShape, newPlayer, uniqueId, wallet } from "./helpers";

describe("GET /wallet/balance", () => {
  it("answers a known player's balance from its Durable Object", async () => {
    const player = await newPlayer({ balance: "12.30" });
    const answer = await wallet("GET", `/wallet/balance?player_id=${player.playerId}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ balance: 12.3 });
    expect(answer.text).toBe('{"balance":12.30}');
  });

  it("answers a second time from the object's memory with the same balance", async () => {
    const player = await newPlayer({ balance: "7.00" });
    const first = await wallet("GET", `/wallet/balance?player_id=${player.playerId}`);
    const second = await wallet("GET", `/wallet/balance?player_id=${player.playerId}`);
    expect([first.text, second.text]).toEqual(['{"balance":7.00}', '{"balance":7.00}']);
  });

  it("writes the currency's own decimals (JPY has none, KWD three)", async () => {
    const yen = await newPlayer({ currency: "JPY", balance: "1500" });
    expect((await wallet("GET", `/wallet/balance?player_id=${yen.playerId}`)).text).toBe(
      '{"balance":1500}',
    );
    const dinar = await newPlayer({ currency: "KWD", balance: "2.5" });
    expect((await wallet("GET", `/wallet/balance?player_id=${dinar.playerId}`)).text).toBe(
      '{"balance":2.500}',
    );
  });

  it("answers 404 PLAYER_NOT_FOUND for an unknown player", async () => {
    const answer = await wallet("GET", "/wallet/balance?player_id=nobody-here");
    expectErrorShape(answer, 404, "PLAYER_NOT_FOUND");
  });

  it("finds a player created after its object was asked about it", async () => {
    const playerId = uniqueId("late");
    expectErrorShape(
      await wallet("GET", `/wallet/balance?player_id=${playerId}`),
      404,
      "PLAYER_NOT_FOUND",
    );
    const request = {
      player_id: playerId,
      operator_id: "thrilltech",
      brand_id: "brand1",
      currency: "EUR",
      balance: "3.00",
    };
    expect((await admin("POST", "/admin/players", request)).status).toBe(201);
    expect((await wallet("GET", `/wallet/balance?player_id=${playerId}`)).text).toBe(
      '{"balance":3.00}',
    );
  });

  it("refuses a missing or repeated player_id with INVALID_REQUEST", async () => {
    expectErrorShape(await wallet("GET", "/wallet/balance"), 400, "INVALID_REQUEST");
    expectErrorShape(
      await wallet("GET", "/wallet/balance?player_id=a&player_id=b"),
      400,
      "INVALID_REQUEST",
    );
  });
});
