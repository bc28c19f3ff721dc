import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { aroundD1Calls } from "../src/ledger/d1-round-trip";
import {
  admin,
  countRows,
  expectErrorShape,
  newPlayer,
  wallet,
  type Answer,
  type TestPlayer,
} from "./helpers";

// Authenticate against a status change or a revoke landing at every point of it (issue 25, part
// 3). The real local D1 is wrapped so that, before the Nth call this authenticate makes to D1,
// the operator's change is made and committed through the admin API (the player's object). Every
// gap between two of authenticate's D1 calls is tried, so a check that reads the status in one
// call and hands out the session in a later one is caught: whatever committed before the call
// that hands out the session must be seen by it.

/** `d1` with `before(n)` awaited before the nth call (from 0) that reaches D1. */
function withHookBeforeCalls(d1: D1Database, before: (call: number) => Promise<void>): D1Database {
  let calls = 0;
  return aroundD1Calls(d1, { before: () => before(calls++) });
}

function authenticate(player: TestPlayer, db: D1Database = env.DB): Promise<Answer> {
  return wallet(
    "POST",
    "/wallet/authenticate",
    {
      operator_id: player.operatorId,
      brand_id: player.brandId,
      player_token: player.token,
      currency: player.currency,
    },
    { vars: { DB: db } },
  );
}

/** How many calls to D1 one successful authenticate makes. */
async function callsOfAuthenticate(): Promise<number> {
  let calls = 0;
  const answer = await authenticate(
    await newPlayer(),
    withHookBeforeCalls(env.DB, async () => {
      calls += 1;
    }),
  );
  expect(answer.status).toBe(200);
  return calls;
}

/** Authenticates `player` with `change` made and committed just before its D1 call number `at`. */
async function authenticateWithChangeBefore(
  player: TestPlayer,
  at: number,
  change: () => Promise<Answer>,
): Promise<{ answer: Answer; changed: boolean }> {
  let changed = false;
  const answer = await authenticate(
    player,
    withHookBeforeCalls(env.DB, async (call) => {
      if (call !== at) return;
      expect((await change()).status).toBe(200);
      changed = true;
    }),
  );
  return { answer, changed };
}

describe("authenticate and a status change or revoke cannot interleave", () => {
  for (const status of ["suspended", "closed"] as const) {
    it(`a player ${status} before any of authenticate's D1 calls gets 403 PLAYER_SUSPENDED and no session`, async () => {
      const calls = await callsOfAuthenticate();
      expect(calls).toBeGreaterThan(0);
      for (let at = 0; at < calls; at++) {
        const player = await newPlayer({ balance: "0.00" });
        const { answer, changed } = await authenticateWithChangeBefore(player, at, () =>
          admin("PATCH", `/admin/players/${player.playerId}`, { status }),
        );
        expect(changed).toBe(true);
        expectErrorShape(answer, 403, "PLAYER_SUSPENDED");
        // The launch token only: no session was made for the player.
        expect(await countRows("sessions", player.playerId)).toBe(1);
      }
    });
  }

  it("a player made active again before any of authenticate's D1 calls gets a session", async () => {
    const calls = await callsOfAuthenticate();
    for (let at = 0; at < calls; at++) {
      const player = await newPlayer();
      const path = `/admin/players/${player.playerId}`;
      expect((await admin("PATCH", path, { status: "suspended" })).status).toBe(200);
      const { answer, changed } = await authenticateWithChangeBefore(player, at, () =>
        admin("PATCH", path, { status: "active" }),
      );
      expect(changed).toBe(true);
      expect(answer.status).toBe(200);
      expect(await countRows("sessions", player.playerId)).toBe(2);
    }
  });

  it("tokens revoked before any of authenticate's D1 calls: 401 INVALID_TOKEN and no session", async () => {
    const calls = await callsOfAuthenticate();
    for (let at = 0; at < calls; at++) {
      const player = await newPlayer();
      const { answer, changed } = await authenticateWithChangeBefore(player, at, () =>
        admin("DELETE", `/admin/players/${player.playerId}/sessions`),
      );
      expect(changed).toBe(true);
      expectErrorShape(answer, 401, "INVALID_TOKEN");
      expect(await countRows("sessions", player.playerId)).toBe(0);
    }
  });

  it("the hook reaches the wallet's D1 calls: without a change, authenticate answers 200 with a session", async () => {
    const player = await newPlayer();
    const { answer, changed } = await authenticateWithChangeBefore(player, 99, () =>
      admin("GET", `/admin/players/${player.playerId}`),
    );
    expect(changed).toBe(false);
    expect(answer.status).toBe(200);
    expect(await countRows("sessions", player.playerId)).toBe(2);
  });
});
