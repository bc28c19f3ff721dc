import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import {
  admin,
  batchItem,
  databaseSnapshot,
  expectErrorShape,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
  wallet,
  type Answer,
  type TestPlayer,
  type WalletCallOptions,
} from "./helpers";

// Two brands with their own keys (WALLET_HMAC_SECRETS of vitest.config.ts), and brand1, which is
// not listed and so is signed for by the default key. A key reaches only its own brand's players.

const KEYS = JSON.parse(env.WALLET_HMAC_SECRETS) as Record<string, string>;
const KEY_A = KEYS["brand-a"] as string;
const KEY_B = KEYS["brand-b"] as string;
const KEY_DEFAULT = env.WALLET_HMAC_SECRET;

const playerOf = (brand: string, balance = "10.00") => newPlayer({ brand_id: brand, balance });
const as = (secret: string, more: WalletCallOptions = {}): WalletCallOptions => ({
  secret,
  ...more,
});

const balance = (playerId: string, secret: string) =>
  wallet("GET", `/wallet/balance?player_id=${playerId}`, undefined, as(secret));
const cancelAs = (secret: string, transactionId: string, playerId?: string) =>
  wallet(
    "DELETE",
    "/wallet/cancel",
    playerId
      ? { transaction_id: transactionId, player_id: playerId }
      : { transaction_id: transactionId },
    as(secret),
  );
const batchAs = (secret: string, body: unknown) =>
  wallet("POST", "/wallet/transaction/batch", body, as(secret));
const cancelBatchAs = (secret: string, body: unknown) =>
  wallet("DELETE", "/wallet/transaction/batch", body, as(secret));
const authenticateAs = (secret: string, player: TestPlayer, brandId = player.brandId) =>
  wallet(
    "POST",
    "/wallet/authenticate",
    {
      operator_id: player.operatorId,
      brand_id: brandId,
      player_token: player.token,
      currency: player.currency,
    },
    as(secret),
  );

/** The answer for a player that does not exist, with `playerId` in place of the unknown id. */
async function unknownPlayerAnswer(
  call: (playerId: string) => Promise<Answer>,
  playerId: string,
): Promise<{ status: number; text: string }> {
  const ghost = uniqueId("ghost");
  const answer = await call(ghost);
  return { status: answer.status, text: answer.text.replaceAll(ghost, playerId) };
}

async function idRow(transactionId: string) {
  return env.DB.prepare(
    "SELECT player_id, status, brand_id, every_brand, listed_brands FROM transactions WHERE transaction_id = ?",
  )
    .bind(transactionId)
    .first<{
      player_id: string | null;
      status: string;
      brand_id: string | null;
      every_brand: number;
      listed_brands: string | null;
    }>();
}

/** Invariant 5 and the id's rows: applies, reverses, and its cancellation rows. */
async function entriesOf(transactionId: string) {
  return env.DB.prepare(
    `SELECT (SELECT count(*) FROM ledger_entries WHERE transaction_id = ?1 AND effect = 'apply') AS applies,
            (SELECT count(*) FROM ledger_entries WHERE transaction_id = ?1 AND effect = 'reverse') AS reverses,
            (SELECT count(*) FROM cancellations WHERE transaction_id = ?1) AS cancellations`,
  )
    .bind(transactionId)
    .first<{ applies: number; reverses: number; cancellations: number }>();
}

describe("brands kept apart: each brand's own traffic", () => {
  it.each([
    ["brand-a", KEY_A],
    ["brand-b", KEY_B],
    ["brand1 (not listed: the default key)", KEY_DEFAULT],
  ])("%s: every wallet route works with its own key", async (label, secret) => {
    const brand = label.startsWith("brand1") ? "brand1" : label;
    const player = await playerOf(brand);
    const session = await authenticateAs(secret, player);
    expect(session.status, session.text).toBe(200);
    expect(session.body.brand_id).toBe(brand);
    expect((await balance(player.playerId, secret)).body).toEqual({ balance: 10 });
    const debit = uniqueId("tx");
    expect((await transact(player.playerId, { transaction_id: debit }, as(secret))).status).toBe(
      200,
    );
    expect((await cancelAs(secret, debit)).body).toEqual({ balance: "10.00" });
    const batchId = uniqueId("batch");
    const batch = await batchAs(secret, {
      batch_id: batchId,
      transactions: [batchItem(player.playerId), batchItem(player.playerId)],
    });
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);
    const undone = await cancelBatchAs(secret, { batch_id: batchId });
    expect(undone.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);
    expect(await storedBalanceMinor(player.playerId)).toBe(1000);
  });
});

describe("brands kept apart: a key of another brand", () => {
  // Each pair: the key that signs, and a player it must not reach.
  const crossings = [
    ["brand-a's key on a brand-b player", KEY_A, "brand-b"],
    ["brand-b's key on a brand-a player", KEY_B, "brand-a"],
    ["the default key on a brand-a player", KEY_DEFAULT, "brand-a"],
    ["brand-a's key on a brand1 player (the default key's)", KEY_A, "brand1"],
  ] as const;

  it.each(crossings)(
    "%s: balance, transaction and cancel answer exactly as for an unknown player; nothing moves",
    async (_label, secret, brand) => {
      const victim = await playerOf(brand);
      const applied = uniqueId("tx");
      // Its own key applied one debit, so there is something to cancel.
      await transact(
        victim.playerId,
        { transaction_id: applied },
        as(brand === "brand1" ? KEY_DEFAULT : brand === "brand-a" ? KEY_A : KEY_B),
      );
      const before = await databaseSnapshot();
      const calls: [string, (playerId: string) => Promise<Answer>][] = [
        ["balance", (playerId) => balance(playerId, secret)],
        [
          "debit",
          (playerId) =>
            transact(playerId, { transaction_id: `cross-${applied}`, amount: "5.00" }, as(secret)),
        ],
        [
          "credit",
          (playerId) =>
            transact(
              playerId,
              { transaction_id: `cross-c-${applied}`, transaction_type: "Credit" },
              as(secret),
            ),
        ],
        ["cancel with the player", (playerId) => cancelAs(secret, applied, playerId)],
      ];
      for (const [what, call] of calls) {
        const answer = await call(victim.playerId);
        expectErrorShape(answer, 404, "PLAYER_NOT_FOUND");
        const unknown = await unknownPlayerAnswer(call, victim.playerId);
        expect({ what, status: answer.status, text: answer.text }).toEqual({ what, ...unknown });
      }
      // Cancel without a player: answered as an unknown id ("0"), and the debit stays applied.
      expect((await cancelAs(secret, applied)).body).toEqual({ balance: "0" });
      expect(await databaseSnapshot()).toEqual(before);
      expect((await idRow(applied))?.status).toBe("applied");
      expect(await storedBalanceMinor(victim.playerId)).toBe(900);
    },
  );

  it("authenticate: the signing brand must be the body's brand_id and the token's", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const before = await databaseSnapshot();
    // B's token, B's brand_id, signed with A's key.
    expectErrorShape(await authenticateAs(KEY_A, b), 401, "INVALID_TOKEN");
    // B's token sent as brand-a by A's key: the token was not issued for brand-a.
    expectErrorShape(await authenticateAs(KEY_A, b, "brand-a"), 401, "INVALID_TOKEN");
    // The default key cannot open a session of a listed brand.
    expectErrorShape(await authenticateAs(KEY_DEFAULT, a), 401, "INVALID_TOKEN");
    expect(await databaseSnapshot()).toEqual(before);
    // The tokens were not used up: each brand's own key still trades them.
    expect((await authenticateAs(KEY_A, a)).status).toBe(200);
    expect((await authenticateAs(KEY_B, b)).status).toBe(200);
  });

  it("a mixed batch is refused whole: nothing of it is applied, for either brand", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const before = await databaseSnapshot();
    const items = [batchItem(a.playerId), batchItem(b.playerId), batchItem(a.playerId)];
    const answer = await batchAs(KEY_A, { batch_id: uniqueId("mixed"), transactions: items });
    expectErrorShape(answer, 404, "PLAYER_NOT_FOUND");
    expect(answer.text).not.toContain("brand-b");
    expect(await databaseSnapshot()).toEqual(before);
    for (const item of items) expect(await idRow(String(item.transaction_id))).toBeNull();
    // The same batch without the foreign item goes through.
    const own = await batchAs(KEY_A, [items[0], items[2]]);
    expect(own.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);
    expect(await storedBalanceMinor(b.playerId)).toBe(1000);
  });

  it("a batch of more players than one D1 query binds, with another brand's player last, is refused whole", async () => {
    const own = await Promise.all(Array.from({ length: 95 }, () => playerOf("brand-a")));
    const b = await playerOf("brand-b");
    const before = await databaseSnapshot();
    const items = [...own.map((p) => batchItem(p.playerId)), batchItem(b.playerId)];
    expectErrorShape(await batchAs(KEY_A, items), 404, "PLAYER_NOT_FOUND");
    expect(await databaseSnapshot()).toEqual(before);
  });

  it("a batch cancel naming another brand's player is refused whole", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const txA = uniqueId("tx");
    const txB = uniqueId("tx");
    await transact(a.playerId, { transaction_id: txA }, as(KEY_A));
    await transact(b.playerId, { transaction_id: txB }, as(KEY_B));
    const before = await databaseSnapshot();
    const answer = await cancelBatchAs(KEY_A, [
      { transaction_id: txA, player_id: a.playerId },
      { transaction_id: txB, player_id: b.playerId },
    ]);
    expectErrorShape(answer, 404, "PLAYER_NOT_FOUND");
    expect(await databaseSnapshot()).toEqual(before);
  });

  it("a batch naming another brand's player and one naming a player that does not exist answer the same, and apply nothing", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const c = await newPlayer();
    const txA = uniqueId("tx");
    await transact(a.playerId, { transaction_id: txA }, as(KEY_A));
    const before = await databaseSnapshot();
    const batchNaming = (playerId: string) =>
      batchAs(KEY_A, [batchItem(a.playerId), batchItem(playerId), batchItem(a.playerId)]);
    const cancelNaming = (playerId: string) =>
      cancelBatchAs(KEY_A, [
        { transaction_id: txA, player_id: a.playerId },
        { transaction_id: uniqueId("tx"), player_id: playerId },
      ]);
    for (const call of [batchNaming, cancelNaming]) {
      const foreign = await call(b.playerId);
      expectErrorShape(foreign, 404, "PLAYER_NOT_FOUND");
      // Byte for byte the answer for a player nobody has (that id put in place of the other).
      expect({ status: foreign.status, text: foreign.text }).toEqual(
        await unknownPlayerAnswer(call, b.playerId),
      );
    }
    expect(await databaseSnapshot()).toEqual(before);
    // The default key too: a listed brand's player and nobody's answer the same.
    const byDefault = (playerId: string) =>
      batchAs(KEY_DEFAULT, [batchItem(c.playerId), batchItem(playerId)]);
    const foreign = await byDefault(a.playerId);
    expectErrorShape(foreign, 404, "PLAYER_NOT_FOUND");
    expect({ status: foreign.status, text: foreign.text }).toEqual(
      await unknownPlayerAnswer(byDefault, a.playerId),
    );
    expect(await databaseSnapshot()).toEqual(before);
  });

  it("without brand keys, a batch naming a player that does not exist answers that item alone (the spec's rule)", async () => {
    const c = await newPlayer({ balance: "10.00" });
    const items = [batchItem(c.playerId, { amount: "1.00" }), batchItem(uniqueId("ghost"))];
    const answer = await wallet(
      "POST",
      "/wallet/transaction/batch",
      { transactions: items },
      { vars: { WALLET_HMAC_SECRETS: "" } },
    );
    expect(answer.status).toBe(200);
    expect(
      answer.body.results.map(
        (r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status,
      ),
    ).toEqual(["OK", "PLAYER_NOT_FOUND"]);
    expect(await storedBalanceMinor(c.playerId)).toBe(900);
  });

  it("a batch cancel without players reverses only the signing brand's ids; the other's are answered as unknown", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const txA = uniqueId("tx");
    const txB = uniqueId("tx");
    await transact(a.playerId, { transaction_id: txA }, as(KEY_A));
    await transact(b.playerId, { transaction_id: txB }, as(KEY_B));
    const answer = await cancelBatchAs(KEY_A, [{ transaction_id: txA }, { transaction_id: txB }]);
    expect(answer.body.results).toEqual([
      { transaction_id: txA, status: "OK", balance: "10.00" },
      { transaction_id: txB, status: "OK", balance: "0" },
    ]);
    expect(await storedBalanceMinor(a.playerId)).toBe(1000);
    expect(await storedBalanceMinor(b.playerId)).toBe(900);
    expect((await idRow(txB))?.status).toBe("applied");
    expect(await entriesOf(txB)).toEqual({ applies: 1, reverses: 0, cancellations: 0 });
    // Brand B still cancels its own id.
    expect((await cancelAs(KEY_B, txB)).body).toEqual({ balance: "10.00" });
  });

  it("a cancel by batch_id reverses only the signing brand's transactions of that batch", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const batchId = uniqueId("shared-batch");
    const itemsA = [batchItem(a.playerId), batchItem(a.playerId, { amount: "2.00" })];
    const itemsB = [batchItem(b.playerId), batchItem(b.playerId, { amount: "3.00" })];
    await batchAs(KEY_A, { batch_id: batchId, transactions: itemsA });
    await batchAs(KEY_B, { batch_id: batchId, transactions: itemsB });
    expect(await storedBalanceMinor(b.playerId)).toBe(600);

    const byA = await cancelBatchAs(KEY_A, { batch_id: batchId });
    expect(byA.status).toBe(200);
    expect(
      byA.body.results.map((r: { transaction_id: string }) => r.transaction_id).sort(),
    ).toEqual(itemsA.map((item) => item.transaction_id).sort());
    expect(await storedBalanceMinor(a.playerId)).toBe(1000);
    expect(await storedBalanceMinor(b.playerId)).toBe(600);
    for (const item of itemsB)
      expect((await idRow(String(item.transaction_id)))?.status).toBe("applied");

    // The default key reaches neither brand: nothing to cancel.
    const byDefault = await cancelBatchAs(KEY_DEFAULT, { batch_id: batchId });
    expect(byDefault.body.results).toEqual([]);
    expect(await storedBalanceMinor(b.playerId)).toBe(600);

    const byB = await cancelBatchAs(KEY_B, { batch_id: batchId });
    expect(byB.body.results).toHaveLength(2);
    expect(await storedBalanceMinor(b.playerId)).toBe(1000);
  });
});

describe("brands kept apart: tombstones", () => {
  it("brand A's cancel of an unknown id does not block brand B's late original, and blocks A's own", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const id = uniqueId("early-cancel");
    expect((await cancelAs(KEY_A, id)).body).toEqual({ balance: "0" });
    expect(await idRow(id)).toEqual({
      player_id: null,
      status: "tombstone",
      brand_id: "brand-a",
      every_brand: 0,
      listed_brands: null,
    });
    // A's own late original is refused.
    expectErrorShape(
      await transact(a.playerId, { transaction_id: id }, as(KEY_A)),
      409,
      "TRANSACTION_CANCELLED",
    );
    // B's original of the same id is applied: A's tombstone gives way, whole.
    const original = await transact(b.playerId, { transaction_id: id }, as(KEY_B));
    expect(original.status, original.text).toBe(200);
    expect(await storedBalanceMinor(b.playerId)).toBe(900);
    expect(await idRow(id)).toMatchObject({ player_id: b.playerId, status: "applied" });
    expect(await entriesOf(id)).toEqual({ applies: 1, reverses: 0, cancellations: 0 });
    // A replay answers the same; A's cancel again is answered as for an unknown id, nothing moves.
    expect((await transact(b.playerId, { transaction_id: id }, as(KEY_B))).body.balance).toBe(9);
    expect((await cancelAs(KEY_A, id)).body).toEqual({ balance: "0" });
    expect(await storedBalanceMinor(b.playerId)).toBe(900);
    // B cancels it once, as any of its transactions.
    expect((await cancelAs(KEY_B, id)).body).toEqual({ balance: "10.00" });
    expect(await entriesOf(id)).toEqual({ applies: 1, reverses: 1, cancellations: 1 });
  });

  it("a tombstone of a cancel that named A's player does not block B's original either", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const id = uniqueId("early-cancel");
    expect((await cancelAs(KEY_A, id, a.playerId)).body).toEqual({ balance: "10.00" });
    expect(await idRow(id)).toMatchObject({ player_id: a.playerId, brand_id: "brand-a" });
    const original = await batchAs(KEY_B, [batchItem(b.playerId, { transaction_id: id })]);
    expect(original.body.results[0].status).toBe("OK");
    expect(await storedBalanceMinor(b.playerId)).toBe(900);
    expect(await entriesOf(id)).toEqual({ applies: 1, reverses: 0, cancellations: 0 });
  });

  it("the default key's tombstone blocks every unlisted brand's original, and gives way to a listed brand's", async () => {
    const b = await playerOf("brand-b");
    const brand1 = await playerOf("brand1");
    const id = uniqueId("early-cancel");
    expect((await cancelAs(KEY_DEFAULT, id)).body).toEqual({ balance: "0" });
    // It records the brands listed now: the default key could reach none of them.
    expect(await idRow(id)).toMatchObject({
      status: "tombstone",
      brand_id: null,
      every_brand: 0,
      listed_brands: '["brand-a","brand-b"]',
    });
    expectErrorShape(
      await transact(brand1.playerId, { transaction_id: id }),
      409,
      "TRANSACTION_CANCELLED",
    );
    // A listed brand's original replaces it, whole: the default key could not have cancelled it.
    const original = await transact(b.playerId, { transaction_id: id }, as(KEY_B));
    expect(original.status, original.text).toBe(200);
    expect(await storedBalanceMinor(b.playerId)).toBe(900);
    expect(await storedBalanceMinor(brand1.playerId)).toBe(1000);
    expect(await idRow(id)).toMatchObject({ player_id: b.playerId, status: "applied" });
    expect(await entriesOf(id)).toEqual({ applies: 1, reverses: 0, cancellations: 0 });
    // The same through a default-key cancel that named its (unlisted) player.
    const id2 = uniqueId("early-cancel");
    expect((await cancelAs(KEY_DEFAULT, id2, brand1.playerId)).body).toEqual({ balance: "10.00" });
    expect(await idRow(id2)).toMatchObject({
      player_id: brand1.playerId,
      brand_id: null,
      listed_brands: '["brand-a","brand-b"]',
    });
    const batch = await batchAs(KEY_B, [batchItem(b.playerId, { transaction_id: id2 })]);
    expect(batch.body.results[0].status).toBe("OK");
    expect(await storedBalanceMinor(b.playerId)).toBe(800);
    expect(await entriesOf(id2)).toEqual({ applies: 1, reverses: 0, cancellations: 0 });
  });

  it("when both brands cancelled the id first, neither brand's original is ever applied", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    // B's cancel (no player), then A's (no player): the tombstone now blocks every brand.
    const id1 = uniqueId("both-cancel");
    await cancelAs(KEY_B, id1);
    expect((await cancelAs(KEY_A, id1)).body).toEqual({ balance: "0" });
    expect(await idRow(id1)).toMatchObject({ status: "tombstone", every_brand: 1 });
    // B's cancel (no player), then A's naming its player (through A's player's object).
    const id2 = uniqueId("both-cancel");
    await cancelAs(KEY_B, id2);
    expect((await cancelAs(KEY_A, id2, a.playerId)).body).toEqual({ balance: "10.00" });
    expect(await idRow(id2)).toMatchObject({ status: "tombstone", every_brand: 1 });
    for (const id of [id1, id2]) {
      for (const [player, key] of [
        [a, KEY_A],
        [b, KEY_B],
      ] as const) {
        expectErrorShape(
          await transact(player.playerId, { transaction_id: id }, as(key)),
          409,
          "TRANSACTION_CANCELLED",
        );
      }
      expect(await entriesOf(id)).toEqual({ applies: 0, reverses: 0, cancellations: 1 });
    }
    expect(await storedBalanceMinor(a.playerId)).toBe(1000);
    expect(await storedBalanceMinor(b.playerId)).toBe(1000);
  });

  it("replacing another brand's tombstone is one atomic write: a failed write or a lost answer, then the retry, applies it once", async () => {
    for (const fault of [{ fail_next_writes: 1 }, { lose_next_answers: 1 }]) {
      const b = await playerOf("brand-b");
      const id = uniqueId("early-cancel");
      await cancelAs(KEY_A, id);
      const armed = await admin("POST", "/admin/faults", { player_id: b.playerId, ...fault });
      expect(armed.status).toBe(200);
      const first = await transact(b.playerId, { transaction_id: id }, as(KEY_B));
      expectErrorShape(first, 503, "UNAVAILABLE");
      const failed = await idRow(id);
      if ("fail_next_writes" in fault) {
        // Nothing of it committed: the tombstone is still A's, whole.
        expect(failed).toMatchObject({ status: "tombstone", brand_id: "brand-a" });
        expect(await entriesOf(id)).toEqual({ applies: 0, reverses: 0, cancellations: 1 });
      } else {
        // It committed whole; only the answer was lost.
        expect(failed).toMatchObject({ status: "applied", player_id: b.playerId });
      }
      const retry = await transact(b.playerId, { transaction_id: id }, as(KEY_B));
      expect(retry.body, JSON.stringify(fault)).toMatchObject({ transaction_id: id, balance: 9 });
      expect(await entriesOf(id)).toEqual({ applies: 1, reverses: 0, cancellations: 0 });
      expect(await storedBalanceMinor(b.playerId)).toBe(900);
    }
  });

  it("two brands' originals racing for another brand's tombstone: exactly one is applied", async () => {
    for (let round = 0; round < 5; round++) {
      const b = await playerOf("brand-b");
      const other = await playerOf("brand1");
      const id = uniqueId("early-cancel");
      await cancelAs(KEY_A, id);
      const answers = await Promise.all([
        transact(b.playerId, { transaction_id: id }, as(KEY_B)),
        transact(other.playerId, { transaction_id: id }, as(KEY_DEFAULT)),
      ]);
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses, answers.map((answer) => answer.text).join(" ")).toEqual([200, 409]);
      expect(await entriesOf(id)).toEqual({ applies: 1, reverses: 0, cancellations: 0 });
      const total =
        (await storedBalanceMinor(b.playerId)) + (await storedBalanceMinor(other.playerId));
      expect(total).toBe(1900);
    }
  });

  it("the ledger still reconciles: a replaced tombstone leaves no stray row", async () => {
    const answer = await admin("GET", "/admin/reconcile");
    expect(answer.status).toBe(200);
    const problems = (answer.body.transaction_problems ??
      answer.body.transactionProblems ??
      []) as {
      transaction_id?: string;
      transactionId?: string;
    }[];
    const ours = problems.filter((p) =>
      String(p.transaction_id ?? p.transactionId).startsWith("early-cancel"),
    );
    expect(ours).toEqual([]);
  });
});

describe("brands kept apart: keys", () => {
  const OLD_A = "the-retiring-brand-a-secret-0123";

  it("rotating brand A's key: A's old key reaches A's players only, and B's key is untouched", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const vars = { WALLET_HMAC_SECRETS_PREVIOUS: JSON.stringify({ "brand-a": OLD_A }) };
    expect((await balance(a.playerId, OLD_A)).status).toBe(401);
    const withVars = (secret: string, playerId: string) =>
      wallet("GET", `/wallet/balance?player_id=${playerId}`, undefined, { secret, vars });
    expect((await withVars(OLD_A, a.playerId)).status).toBe(200);
    expect((await withVars(KEY_A, a.playerId)).status).toBe(200);
    expect((await withVars(KEY_B, b.playerId)).status).toBe(200);
    expectErrorShape(await withVars(OLD_A, b.playerId), 404, "PLAYER_NOT_FOUND");
    const closed = {
      ...vars,
      WALLET_HMAC_SECRETS_PREVIOUS_UNTIL: new Date(Date.now() - 1000).toISOString(),
    };
    const after = await wallet("GET", `/wallet/balance?player_id=${a.playerId}`, undefined, {
      secret: OLD_A,
      vars: closed,
    });
    expectErrorShape(after, 401, "INVALID_SIGNATURE");
  });

  it("an invalid WALLET_HMAC_SECRETS fails closed: 500 on every call, the log names the setting only", async () => {
    const errors = vi.spyOn(console, "error");
    try {
      const leaked = "a-leaked-secret-0123456789";
      const bad = { WALLET_HMAC_SECRETS: `{"brand-a":"${leaked}","brand-b":"${leaked}"}` };
      const player = await playerOf("brand1");
      for (const secret of [KEY_DEFAULT, leaked]) {
        const answer = await wallet(
          "GET",
          `/wallet/balance?player_id=${player.playerId}`,
          undefined,
          { secret, vars: bad },
        );
        expectErrorShape(answer, 500, "INTERNAL_ERROR");
        expect(answer.text).not.toContain(leaked);
      }
      const logged = errors.mock.calls.map((call) => String(call[0])).join("\n");
      expect(logged).toContain("WALLET_HMAC_SECRETS");
      expect(logged).not.toContain(leaked);
    } finally {
      errors.mockRestore();
    }
  });

  describe("the request log line names the signing brand, never the key", () => {
    let logSpy: MockInstance<typeof console.log>;
    beforeEach(() => {
      logSpy = vi.spyOn(console, "log");
    });
    afterEach(() => {
      logSpy.mockRestore();
    });

    it("brand-a, (default), and nothing for a request that no key signed", async () => {
      const a = await playerOf("brand-a");
      logSpy.mockClear();
      await balance(a.playerId, KEY_A);
      await balance(a.playerId, KEY_DEFAULT);
      await balance(a.playerId, "not-any-key-0123456789");
      const lines = logSpy.mock.calls
        .map((call) => String(call[0]))
        .filter((line) => line.startsWith('{"request_id"'));
      expect(lines.map((line) => JSON.parse(line).signed_by)).toEqual([
        "brand-a",
        "(default)",
        undefined,
      ]);
      for (const line of lines) {
        expect(line).not.toContain(KEY_A);
        expect(line).not.toContain(KEY_DEFAULT);
      }
    });
  });
});
