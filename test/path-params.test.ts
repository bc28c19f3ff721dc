import { describe, expect, it } from "vitest";
import { MAX_ID_LENGTH } from "../src/api/schemas";
import { admin, expectErrorShape, uniqueId, wallet } from "./helpers";

// Issue 12.4: path parameters reach the handlers decoded, once (the router's decodeUrl, api/url.ts):
// a player created as plä-😀 is found at /admin/players/pl%C3%A4-%F0%9F%98%80, on every admin route
// with a path parameter. A malformed encoding is a 400, never a lookup of another id.

async function playerNamed(playerId: string): Promise<void> {
  const created = await admin("POST", "/admin/players", {
    player_id: playerId,
    operator_id: "thrilltech",
    brand_id: "brand1",
    currency: "EUR",
    balance: "3.00",
  });
  expect(created.status, created.text).toBe(201);
}

describe("admin routes decode their path parameter", () => {
  it("find non-ASCII, emoji, space, slash and percent ids by their percent-encoding, on every route with a player_id", async () => {
    const suffix = uniqueId("p");
    for (const playerId of [
      `plä-😀-${suffix}`,
      `日本 語-${suffix}`,
      `a/b-${suffix}`,
      `100%-${suffix}`,
      `plus+${suffix}`,
    ]) {
      await playerNamed(playerId);
      const path = `/admin/players/${encodeURIComponent(playerId)}`;
      const player = await admin("GET", path);
      expect(player.status, `${playerId}: ${player.text}`).toBe(200);
      expect(player.body.player_id).toBe(playerId);
      const session = await admin("POST", `${path}/sessions`, {});
      expect(session.status, session.text).toBe(201);
      const authenticated = await wallet("POST", "/wallet/authenticate", {
        operator_id: "thrilltech",
        brand_id: "brand1",
        player_token: session.body.player_token,
        currency: "EUR",
      });
      expect(authenticated.body.id).toBe(playerId);
      const credit = await wallet("POST", "/wallet/transaction", {
        player_id: playerId,
        transaction_id: uniqueId("t"),
        transaction_type: "Credit",
        provider_id: "thrillpots",
        amount: "1.00",
      });
      expect(credit.status).toBe(200);
      const ledger = await admin("GET", `${path}/ledger?limit=5`);
      expect(ledger.status, ledger.text).toBe(200);
      expect(ledger.body.player_id).toBe(playerId);
      expect(ledger.body.entries).toHaveLength(1);
      const balance = await wallet(
        "GET",
        `/wallet/balance?player_id=${encodeURIComponent(playerId)}`,
      );
      expect(balance.text).toBe('{"balance":4.00}');
      const transferred = await admin("POST", `${path}/transfers`, {
        transfer_id: uniqueId("tr"),
        direction: "out",
        amount: "1.00",
      });
      expect(transferred.body.balance, transferred.text).toBe(3);
      const suspended = await admin("PATCH", path, { status: "suspended" });
      expect(suspended.body).toMatchObject({ player_id: playerId, status: "suspended" });
      // The launch token and the session authenticate issued.
      const revoked = await admin("DELETE", `${path}/sessions`);
      expect(revoked.body).toEqual({ player_id: playerId, revoked: 2 });
    }
  });

  it("refuse a malformed percent-encoding, or one that is not UTF-8, with 400 on every route with a player_id", async () => {
    for (const raw of ["%zz", "%", "a%2", "%FF", "%ED%A0%80", "%C3", "%E0%A4"]) {
      for (const [method, suffix, body] of [
        ["GET", "", undefined],
        ["PATCH", "", { status: "suspended" }],
        ["POST", "/sessions", {}],
        ["DELETE", "/sessions", undefined],
        ["GET", "/ledger", undefined],
        ["POST", "/transfers", { transfer_id: uniqueId("tr"), direction: "in", amount: "1.00" }],
      ] as const) {
        const answer = await admin(method, `/admin/players/p${raw}${suffix}`, body);
        expectErrorShape(answer, 400, "INVALID_REQUEST");
      }
    }
  });

  it("bound the decoded id by MAX_ID_LENGTH, and answer an unknown one 404", async () => {
    expectErrorShape(
      await admin("GET", `/admin/players/${encodeURIComponent("é".repeat(MAX_ID_LENGTH + 1))}`),
      400,
      "INVALID_REQUEST",
    );
    expectErrorShape(
      await admin(
        "GET",
        `/admin/players/${encodeURIComponent(`nobody-é-${uniqueId("n")}`)}/ledger`,
      ),
      404,
      "PLAYER_NOT_FOUND",
    );
  });
});
