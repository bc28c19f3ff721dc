import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signBody } from "../src/auth/hmac";
import { admin, countRows, expectErrorShape, uniqueId, wallet } from "./helpers";

function playerRequest(fields: Record<string, unknown> = {}) {
  return {
    player_id: uniqueId("admin"),
    operator_id: "thrilltech",
    brand_id: "brand1",
    currency: "EUR",
    balance: "50.00",
    ...fields,
  };
}

describe("admin API", () => {
  it("refuses a missing or wrong bearer token with 401, creating nothing", async () => {
    const request = playerRequest();
    expectErrorShape(await admin("POST", "/admin/players", request, ""), 401, "UNAUTHORIZED");
    expectErrorShape(
      await admin("POST", "/admin/players", request, "wrong-token-wrong-token"),
      401,
      "UNAUTHORIZED",
    );
    expectErrorShape(
      await admin("GET", `/admin/players/${request.player_id}`, undefined, ""),
      401,
      "UNAUTHORIZED",
    );
    expect(await countRows("players", request.player_id)).toBe(0);
  });

  it("does not accept the HMAC secret or a body signature in place of the admin token", async () => {
    const request = playerRequest();
    expectErrorShape(
      await admin("POST", "/admin/players", request, env.WALLET_HMAC_SECRET),
      401,
      "UNAUTHORIZED",
    );
    const signed = await wallet("POST", "/admin/players", request);
    expectErrorShape(signed, 401, "UNAUTHORIZED");
    expect(await countRows("players", request.player_id)).toBe(0);
  });

  it("creates a player, answers it with 201, and serves it back", async () => {
    const request = playerRequest({
      nickname: "Nick",
      gender: "f",
      country: "DE",
      date_of_birth: "1990-01-02",
      jurisdiction: "MGA",
      segments: ["a", "b"],
    });
    const created = await admin("POST", "/admin/players", request);
    expect(created.status).toBe(201);
    const expected = { ...request, balance: 50, status: "active" };
    expect(created.body).toEqual(expected);
    const fetched = await admin("GET", `/admin/players/${request.player_id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(expected);
  });

  it("refuses a duplicate player id with 409 and keeps the first", async () => {
    const request = playerRequest();
    expect((await admin("POST", "/admin/players", request)).status).toBe(201);
    expectErrorShape(
      await admin("POST", "/admin/players", { ...request, balance: "99.00" }),
      409,
      "PLAYER_EXISTS",
    );
    expect((await admin("GET", `/admin/players/${request.player_id}`)).text).toContain(
      '"balance":50.00',
    );
  });

  it("stores balances exactly, from numbers and strings alike", async () => {
    const cases: Array<[unknown, string, string]> = [
      ["0.30", "EUR", "0.30"],
      [0.3, "EUR", "0.30"],
      ["9007199254740.99", "EUR", "9007199254740.99"],
      [123456789.01, "EUR", "123456789.01"],
      ["1.10", "EUR", "1.10"],
      ["5", "JPY", "5"],
      ["0.00000001", "BTC", "0.00000001"],
    ];
    for (const [balance, currency, text] of cases) {
      const request = playerRequest({ balance, currency });
      const created = await admin("POST", "/admin/players", request);
      expect(created.status, `${balance} ${currency}: ${created.text}`).toBe(201);
      expect(created.text).toContain(`"balance":${text}`);
      const row = await env.DB.prepare("SELECT balance_minor FROM players WHERE id = ?")
        .bind(request.player_id)
        .first();
      expect(row?.balance_minor).toBe(Number(text.replace(".", "")));
    }
  });

  it("refuses balances that cannot be represented exactly, creating nothing", async () => {
    for (const [balance, currency] of [
      ["1.005", "EUR"],
      ["-1.00", "EUR"],
      [-1, "EUR"],
      ["1e3", "EUR"],
      // biome-ignore lint/correctness/noPrecisionLoss: a number JSON cannot carry (Infinity) must be refused
      [1e309, "EUR"],
      ["1.5", "JPY"],
      ["abc", "EUR"],
      ["", "EUR"],
      ["99999999999999999999", "EUR"],
      [true, "EUR"],
    ] as const) {
      const request = playerRequest({ balance, currency });
      const answer = await admin("POST", "/admin/players", request);
      expectErrorShape(answer, 400, "INVALID_REQUEST");
      expect(await countRows("players", request.player_id)).toBe(0);
    }
  });

  it("reads a JSON number from its source text, not through a float", async () => {
    // As a float, 1.00000000000000001 is 1; its text has more decimals than EUR allows.
    const request = playerRequest();
    const raw = JSON.stringify({ ...request, balance: "@" }).replace('"@"', "1.00000000000000001");
    expectErrorShape(await admin("POST", "/admin/players", raw), 400, "INVALID_REQUEST");
    expect(await countRows("players", request.player_id)).toBe(0);
  });

  it("refuses an unknown currency and unknown fields", async () => {
    expectErrorShape(
      await admin("POST", "/admin/players", playerRequest({ currency: "euro" })),
      400,
      "INVALID_REQUEST",
    );
    expectErrorShape(
      await admin("POST", "/admin/players", playerRequest({ colour: "red" })),
      400,
      "INVALID_REQUEST",
    );
  });

  it("answers 404 for an unknown player and for a session of an unknown player", async () => {
    expectErrorShape(await admin("GET", "/admin/players/nobody"), 404, "PLAYER_NOT_FOUND");
    expectErrorShape(
      await admin("POST", "/admin/players/nobody/sessions", {}),
      404,
      "PLAYER_NOT_FOUND",
    );
  });

  it("issues session tokens that authenticate only for the player's operator and brand", async () => {
    const request = playerRequest({ operator_id: "op-x", brand_id: "brand-x" });
    await admin("POST", "/admin/players", request);
    const session = await admin("POST", `/admin/players/${request.player_id}/sessions`);
    expect(session.status).toBe(201);
    expect(session.body.player_token).toMatch(/^tok_[0-9a-f]{32}$/);
    const body = {
      operator_id: "op-x",
      brand_id: "brand-x",
      player_token: session.body.player_token,
      currency: "EUR",
    };
    expect((await wallet("POST", "/wallet/authenticate", body)).status).toBe(200);
    expectErrorShape(
      await wallet("POST", "/wallet/authenticate", { ...body, operator_id: "thrilltech" }),
      401,
      "INVALID_TOKEN",
    );
    expect(await signBody("", env.WALLET_HMAC_SECRET)).toHaveLength(64);
  });
});
