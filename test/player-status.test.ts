import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  admin,
  type Answer,
  batchItem,
  cancel,
  countRows,
  databaseSnapshot,
  expectErrorShape,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  type TestPlayer,
  transact,
  uniqueId,
  wallet,
} from "./helpers";

// PATCH /admin/players/{player_id} {"status"}: the operator stops a player from playing (suspended)
// or closes the account (closed); wins, reversals and transfers out are always paid. And
// DELETE /admin/players/{player_id}/sessions: every token of the player revoked.

const setStatus = (playerId: string, status: unknown): Promise<Answer> =>
  admin("PATCH", `/admin/players/${playerId}`, { status });

function transfer(playerId: string, direction: "in" | "out", amount: string, transferId?: string) {
  return admin("POST", `/admin/players/${playerId}/transfers`, {
    transfer_id: transferId ?? uniqueId("tr"),
    direction,
    amount,
  });
}

function authenticate(player: TestPlayer, token = player.token): Promise<Answer> {
  return wallet("POST", "/wallet/authenticate", {
    operator_id: player.operatorId,
    brand_id: player.brandId,
    player_token: token,
    currency: player.currency,
  });
}

const postBatch = (body: unknown) => wallet("POST", "/wallet/transaction/batch", body);

describe("PATCH /admin/players/{player_id}: the player's status", () => {
  it("a player starts active; the status set is answered with the player and shown by GET", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    expect((await admin("GET", `/admin/players/${playerId}`)).body.status).toBe("active");
    for (const status of ["suspended", "suspended", "active", "closed"]) {
      if (status === "closed") await transfer(playerId, "out", "10.00");
      const answer = await setStatus(playerId, status);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ player_id: playerId, status, currency: "EUR" });
      const fetched = await admin("GET", `/admin/players/${playerId}`);
      expect(fetched.body).toEqual(answer.body);
      const row = await env.DB.prepare("SELECT status FROM players WHERE id = ?")
        .bind(playerId)
        .first<{ status: string }>();
      expect(row?.status).toBe(status);
    }
  });

  it("refuses an unknown status or other fields (400), an unknown player (404), no token (401)", async () => {
    const { playerId } = await newPlayer();
    for (const body of [
      { status: "frozen" },
      { status: "Active" },
      { status: null },
      {},
      { status: "suspended", balance: "0" },
    ]) {
      expectErrorShape(
        await admin("PATCH", `/admin/players/${playerId}`, body),
        400,
        "INVALID_REQUEST",
      );
    }
    expectErrorShape(await setStatus(uniqueId("nobody"), "suspended"), 404, "PLAYER_NOT_FOUND");
    expectErrorShape(
      await admin("PATCH", `/admin/players/${playerId}`, { status: "suspended" }, ""),
      401,
      "UNAUTHORIZED",
    );
    expect((await admin("GET", `/admin/players/${playerId}`)).body.status).toBe("active");
  });

  it("closing a player whose balance is not 0 is 409 BALANCE_NOT_ZERO with the balance, and changes nothing", async () => {
    const { playerId } = await newPlayer({ balance: "0.01" });
    await setStatus(playerId, "suspended");
    const refused = await setStatus(playerId, "closed");
    expectErrorShape(refused, 409, "BALANCE_NOT_ZERO");
    expect(refused.text).toContain('"balance":0.01');
    expect((await admin("GET", `/admin/players/${playerId}`)).body.status).toBe("suspended");
    await transfer(playerId, "out", "0.01");
    expect((await setStatus(playerId, "closed")).body).toMatchObject({
      status: "closed",
      balance: 0,
    });
  });

  it("closing is decided on the balance D1 holds: an object that remembers another one closes nothing", async () => {
    const { playerId } = await newPlayer({ balance: "0.00" });
    // The player's object remembers 0.00; then D1 holds 5.00 (kept reconciled through the opening).
    expect((await wallet("GET", `/wallet/balance?player_id=${playerId}`)).body.balance).toBe(0);
    await env.DB.prepare(
      "UPDATE players SET balance_minor = 500, opening_balance_minor = 500 WHERE id = ?",
    )
      .bind(playerId)
      .run();
    const refused = await setStatus(playerId, "closed");
    expectErrorShape(refused, 409, "BALANCE_NOT_ZERO");
    expect(refused.body.balance).toBe(5);
    expect((await admin("GET", `/admin/players/${playerId}`)).body.status).toBe("active");
  });

  it("a status change the ledger did not take is 503 and changes nothing; its retry sets it", async () => {
    const { playerId } = await newPlayer();
    await admin("POST", "/admin/faults", { player_id: playerId, fail_next_writes: 1 });
    expectErrorShape(await setStatus(playerId, "suspended"), 503, "UNAVAILABLE");
    expect((await admin("GET", `/admin/players/${playerId}`)).body.status).toBe("active");
    expect((await transact(playerId, { amount: "1.00" })).status).toBe(200);
    expect((await setStatus(playerId, "suspended")).status).toBe(200);
    expectErrorShape(await transact(playerId, { amount: "1.00" }), 403, "PLAYER_SUSPENDED");
  });
});

describe("a suspended or closed player", () => {
  it("cannot authenticate: 403 PLAYER_SUSPENDED, and can again once active", async () => {
    const player = await newPlayer({ balance: "0.00" });
    expect((await authenticate(player)).status).toBe(200);
    for (const status of ["suspended", "closed"]) {
      await setStatus(player.playerId, status);
      const before = await countRows("sessions", player.playerId);
      expectErrorShape(await authenticate(player), 403, "PLAYER_SUSPENDED");
      expect(await countRows("sessions", player.playerId)).toBe(before);
    }
    // An invalid token is still told so first.
    expectErrorShape(await authenticate(player, "tok_unknown"), 401, "INVALID_TOKEN");
    await setStatus(player.playerId, "active");
    expect((await authenticate(player)).status).toBe(200);
  });

  it("a Debit is 403 PLAYER_SUSPENDED, moves nothing, and its retry answers the same once active again", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    await setStatus(playerId, "suspended");
    const debit = { transaction_id: uniqueId("tx"), amount: "1.00" };
    const before = await databaseSnapshot();
    const refused = await transact(playerId, debit);
    expectErrorShape(refused, 403, "PLAYER_SUSPENDED");
    expect(await databaseSnapshot()).toEqual(before);
    const recorded = await admin("GET", `/admin/transactions/${debit.transaction_id}`);
    expect(recorded.body).toMatchObject({
      status: "refused",
      refusal: { code: "PLAYER_SUSPENDED" },
    });
    await setStatus(playerId, "active");
    expect((await transact(playerId, debit)).text).toBe(refused.text);
    expect(await storedBalanceMinor(playerId)).toBe(1000);
    expect((await transact(playerId, { amount: "1.00" })).status).toBe(200);
  });

  it("a Debit applied before the suspension answers its retry as applied", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const debit = { transaction_id: uniqueId("tx"), amount: "1.00" };
    const applied = await transact(playerId, debit);
    await setStatus(playerId, "suspended");
    expect((await transact(playerId, debit)).text).toBe(applied.text);
    expect(await storedBalanceMinor(playerId)).toBe(900);
  });

  it("still gets Credits, cancels, balance reads and transfers out", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const debit = uniqueId("tx");
    const credit = uniqueId("tx");
    await transact(playerId, { transaction_id: debit, amount: "3.00" });
    await transact(playerId, {
      transaction_id: credit,
      transaction_type: "Credit",
      amount: "1.00",
    });
    await setStatus(playerId, "suspended");
    expect((await transact(playerId, { transaction_type: "Credit", amount: "2.00" })).body).toEqual(
      expect.objectContaining({ balance: 10 }),
    );
    expect((await transact(playerId, { transaction_type: "None", amount: "0" })).status).toBe(200);
    expect((await cancel(debit, playerId)).body).toEqual({ balance: "13.00" });
    expect((await cancel(credit, null)).body).toEqual({ balance: "12.00" });
    expect((await wallet("GET", `/wallet/balance?player_id=${playerId}`)).body.balance).toBe(12);
    expect((await transfer(playerId, "out", "2.00")).body.balance).toBe(10);
    // A suspended player may still receive a transfer in; only closing stops that.
    expect((await transfer(playerId, "in", "1.00")).body.balance).toBe(11);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  });

  it("inside a batch: its Debits are refused item by item, other items and players applied, and a resend answers the same", async () => {
    const blocked = await newPlayer({ balance: "10.00" });
    const active = await newPlayer({ balance: "10.00" });
    await setStatus(blocked.playerId, "suspended");
    const body = {
      batch_id: uniqueId("batch"),
      transactions: [
        batchItem(blocked.playerId, { amount: "1.00" }),
        batchItem(active.playerId, { amount: "1.00" }),
        batchItem(blocked.playerId, { transaction_type: "Credit", amount: "2.00" }),
      ],
    };
    const first = await postBatch(body);
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: { status: string }) => r.status)).toEqual([
      "ERROR",
      "OK",
      "OK",
    ]);
    expect(first.body.results[0].error.code).toBe("PLAYER_SUSPENDED");
    await setStatus(blocked.playerId, "active");
    expect((await postBatch(body)).text).toBe(first.text);
    expect(await storedBalanceMinor(blocked.playerId)).toBe(1200);
    expect(await storedBalanceMinor(active.playerId)).toBe(900);
  });

  it("closed: a transfer in is 403 PLAYER_CLOSED, recorded; a Credit and a transfer out still work", async () => {
    const { playerId } = await newPlayer({ balance: "0.00" });
    await setStatus(playerId, "closed");
    const transferId = uniqueId("tr");
    const before = await databaseSnapshot();
    const refused = await transfer(playerId, "in", "5.00", transferId);
    expectErrorShape(refused, 403, "PLAYER_CLOSED");
    expect(await databaseSnapshot()).toEqual(before);
    expectErrorShape(await transact(playerId, { amount: "0.00" }), 403, "PLAYER_SUSPENDED");
    // A late win is paid, and the operator pays it out.
    expect((await transact(playerId, { transaction_type: "Credit", amount: "4.00" })).status).toBe(
      200,
    );
    expect((await transfer(playerId, "out", "4.00")).body.balance).toBe(0);
    await setStatus(playerId, "active");
    expect((await transfer(playerId, "in", "5.00", transferId)).text).toBe(refused.text);
    expect(await storedBalanceMinor(playerId)).toBe(0);
  });

  it("a suspension is ordered with the player's debits: each is applied before it or refused after it", async () => {
    // The suspension arrives while debits are queued in the player's object, and more follow it,
    // so that it is mostly decided in one group commit with debits before and after it (rounds,
    // since the arrival order is the runtime's).
    for (let round = 0; round < 4; round++) {
      const { playerId } = await newPlayer({ balance: "100.00" });
      const earlier = Array.from({ length: 30 }, () => transact(playerId, { amount: "1.00" }));
      await Promise.race(earlier);
      const [suspended, later] = await Promise.all([
        setStatus(playerId, "suspended"),
        Promise.all(Array.from({ length: 30 }, () => transact(playerId, { amount: "1.00" }))),
      ]);
      expect(suspended.status).toBe(200);
      const debits = [...(await Promise.all(earlier)), ...later];
      const applied = debits.filter((a) => a.status === 200).length;
      for (const refused of debits.filter((a) => a.status !== 200))
        expectErrorShape(refused, 403, "PLAYER_SUSPENDED");
      // The suspension answers the balance it was decided on: no debit was applied after it.
      expect(await storedBalanceMinor(playerId)).toBe(10000 - applied * 100);
      expect(Math.round(suspended.body.balance * 100)).toBe(10000 - applied * 100);
      expect(await countRows("ledger_entries", playerId)).toBe(applied);
      // Once the suspension was answered, no debit is applied.
      const after = await Promise.all(
        Array.from({ length: 10 }, () => transact(playerId, { amount: "1.00" })),
      );
      for (const refused of after) expectErrorShape(refused, 403, "PLAYER_SUSPENDED");
      expect(await ledgerAddsUp(playerId)).toBe(true);
    }
  });
});

describe("DELETE /admin/players/{player_id}/sessions", () => {
  it("revokes every live token of the player: each then authenticates 401 INVALID_TOKEN", async () => {
    const player = await newPlayer();
    const other = await newPlayer();
    const second = await admin("POST", `/admin/players/${player.playerId}/sessions`, {});
    const session = await authenticate(player);
    const tokens = [player.token, second.body.player_token, session.body.token];
    // An expired token does not count as revoked (it was no longer live), but is gone too.
    await env.DB.prepare(
      "INSERT INTO sessions (token, player_id, operator_id, brand_id, currency, expires_at_ms, created_at_ms) VALUES (?, ?, ?, ?, 'EUR', 1, 0)",
    )
      .bind(uniqueId("tok"), player.playerId, player.operatorId, player.brandId)
      .run();
    const revoked = await admin("DELETE", `/admin/players/${player.playerId}/sessions`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ player_id: player.playerId, revoked: 3 });
    for (const token of tokens)
      expectErrorShape(await authenticate(player, token), 401, "INVALID_TOKEN");
    expect(await countRows("sessions", player.playerId)).toBe(0);
    // Another player's tokens, and a token issued afterwards, work.
    expect((await authenticate(other)).status).toBe(200);
    const fresh = await admin("POST", `/admin/players/${player.playerId}/sessions`, {});
    expect((await authenticate(player, fresh.body.player_token)).status).toBe(200);
    expect((await admin("DELETE", `/admin/players/${player.playerId}/sessions`)).body.revoked).toBe(
      2,
    );
    expect((await admin("DELETE", `/admin/players/${player.playerId}/sessions`)).body.revoked).toBe(
      0,
    );
  });

  it("a token authenticate hands out while the revoke runs is revoked too", async () => {
    const player = await newPlayer();
    let handedOut = 0;
    for (let round = 0; round < 20; round++) {
      const launch = await admin("POST", `/admin/players/${player.playerId}/sessions`, {});
      // Every other round the revoke starts after a timer, so that it lands at other steps of
      // authenticate: before it reads the token, between its read and its write, after both.
      const revoke = () => admin("DELETE", `/admin/players/${player.playerId}/sessions`);
      const [session] = await Promise.all([
        authenticate(player, launch.body.player_token),
        round % 2 === 0 ? revoke() : scheduler.wait(0).then(revoke),
      ]);
      if (session.status !== 200) {
        expectErrorShape(session, 401, "INVALID_TOKEN");
        continue;
      }
      handedOut += 1;
      expectErrorShape(await authenticate(player, session.body.token), 401, "INVALID_TOKEN");
    }
    // Some rounds must have handed a token out, or the race this checks never ran.
    expect(handedOut).toBeGreaterThan(0);
    expect(await countRows("sessions", player.playerId)).toBe(0);
  });

  it("answers 404 for an unknown player and 401 without the admin token, revoking nothing", async () => {
    const player = await newPlayer();
    expectErrorShape(
      await admin("DELETE", `/admin/players/${uniqueId("nobody")}/sessions`),
      404,
      "PLAYER_NOT_FOUND",
    );
    expectErrorShape(
      await admin("DELETE", `/admin/players/${player.playerId}/sessions`, undefined, ""),
      401,
      "UNAUTHORIZED",
    );
    expect((await authenticate(player)).status).toBe(200);
  });
});
