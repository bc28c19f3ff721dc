import { env } from "cloudflare:workers";
import { fillPlaceholders, sql } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { aroundD1Calls } from "../src/ledger/d1-round-trip";
import { ledgerDb } from "../src/ledger/db";
import { commitWrites, isIdTakenError, tombstoneGivesWay } from "../src/ledger/transactions";
import { tombstoneBlocks } from "../src/ledger/writes";
import {
  admin,
  batchItem,
  expectErrorShape,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
  wallet,
  type Answer,
} from "./helpers";

// Tombstones across brands (issue 24's review): a tombstone whose brand_id and listed_brands are
// NULL (written before migrations 0005/0007) blocks every brand's original; the default key's
// blocks every brand that was not listed when it was written (a brand listed since too), and gives
// way to a listed brand's original; tombstoneBlocks and its SQL negation agree on every case; and
// widening another brand's tombstone fails, whole, if an original replaced the tombstone between
// the cancel's read and its write, so the cancel looks again and reverses that original.

const KEYS = JSON.parse(env.WALLET_HMAC_SECRETS) as Record<string, string>;
const KEY_A = KEYS["brand-a"] as string;
const KEY_B = KEYS["brand-b"] as string;
const KEY_DEFAULT = env.WALLET_HMAC_SECRET;

const playerOf = (brand: string) => newPlayer({ brand_id: brand, balance: "10.00" });

function cancelAs(
  secret: string,
  transactionId: string,
  vars: Partial<Cloudflare.Env> = {},
): Promise<Answer> {
  return wallet("DELETE", "/wallet/cancel", { transaction_id: transactionId }, { secret, vars });
}

async function listedBrandsOfRow(transactionId: string): Promise<unknown> {
  const row = await env.DB.prepare(
    "SELECT brand_id, every_brand, listed_brands FROM transactions WHERE transaction_id = ?",
  )
    .bind(transactionId)
    .first();
  return row;
}

/** A tombstone as migration 0005 left every older one: brand_id NULL, every_brand 0. */
async function writePre0005Tombstone(transactionId: string): Promise<void> {
  const nowMs = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO transactions (transaction_id, player_id, status, brand_id, every_brand, created_at_ms) VALUES (?, NULL, 'tombstone', NULL, 0, ?)",
    ).bind(transactionId, nowMs),
    env.DB.prepare(
      "INSERT INTO cancellations (transaction_id, player_id, outcome, batch_id, balance_after_minor, created_at_ms) VALUES (?, NULL, 'tombstone', NULL, NULL, ?)",
    ).bind(transactionId, nowMs),
  ]);
}

async function entriesOf(transactionId: string) {
  return env.DB.prepare(
    `SELECT (SELECT count(*) FROM ledger_entries WHERE transaction_id = ?1 AND effect = 'apply') AS applies,
            (SELECT count(*) FROM ledger_entries WHERE transaction_id = ?1 AND effect = 'reverse') AS reverses,
            (SELECT count(*) FROM cancellations WHERE transaction_id = ?1) AS cancellations,
            (SELECT status FROM transactions WHERE transaction_id = ?1) AS status`,
  )
    .bind(transactionId)
    .first<{ applies: number; reverses: number; cancellations: number; status: string }>();
}

/** `d1` with `before(n)` awaited before its nth batch (from 0); reads pass straight through. */
function withHookBeforeBatches(
  d1: D1Database,
  before: (call: number) => Promise<void>,
): D1Database {
  let calls = 0;
  return aroundD1Calls(d1, {
    before: (call) => (call.kind === "batch" ? before(calls++) : undefined),
  });
}

async function reconcileProblemsOf(ids: string[]): Promise<unknown[]> {
  const answer = await admin("GET", "/admin/reconcile");
  expect(answer.status).toBe(200);
  const problems = (answer.body.transaction_problems ?? []) as { transaction_id?: string }[];
  return problems.filter((problem) => ids.includes(String(problem.transaction_id)));
}

describe("a tombstone with brand_id and listed_brands NULL blocks every brand", () => {
  it("a pre-0005 tombstone refuses a listed brand's late original (single and batch): no money moves", async () => {
    const a = await playerOf("brand-a");
    const b = await playerOf("brand-b");
    const other = await playerOf("brand1");
    const id = uniqueId("old-tombstone");
    await writePre0005Tombstone(id);
    expectErrorShape(
      await transact(a.playerId, { transaction_id: id }, { secret: KEY_A }),
      409,
      "TRANSACTION_CANCELLED",
    );
    const batch = await wallet(
      "POST",
      "/wallet/transaction/batch",
      [batchItem(b.playerId, { transaction_id: id })],
      { secret: KEY_B },
    );
    expect(batch.status, batch.text).toBe(200);
    expect(batch.body.results[0].status).not.toBe("OK");
    expectErrorShape(
      await transact(other.playerId, { transaction_id: id }, { secret: KEY_DEFAULT }),
      409,
      "TRANSACTION_CANCELLED",
    );
    for (const player of [a, b, other])
      expect(await storedBalanceMinor(player.playerId)).toBe(1000);
    expect(await entriesOf(id)).toEqual({
      applies: 0,
      reverses: 0,
      cancellations: 1,
      status: "tombstone",
    });
    // A listed brand's cancel of it adds nothing: the tombstone already blocks that brand.
    expect((await cancelAs(KEY_A, id)).body).toEqual({ balance: "0" });
    expect(await reconcileProblemsOf([id])).toEqual([]);
  });
});

/** Does D1's tombstoneGivesWay say the tombstone `transactionId` gives way to `brandId`? */
async function givesWayInD1(transactionId: string, brandId: string): Promise<boolean> {
  const query = new SQLiteSyncDialect().sqlToQuery(sql`SELECT ${tombstoneGivesWay} AS gives_way`);
  const row = await env.DB.prepare(query.sql)
    .bind(...fillPlaceholders(query.params, { transactionId, brandId }))
    .first<{ gives_way: number }>();
  return row?.gives_way === 1;
}

describe("the default key's tombstone blocks the brands it could reach, and only those", () => {
  it("tombstoneBlocks and its SQL negation in D1 agree on every kind of tombstone and brand", async () => {
    const BRANDS = ["brand-a", "brand-b", "brand1", "brand-c"];
    // Each tombstone, and the brands whose late original it blocks.
    const CASES = [
      { brandId: null, everyBrand: 0, listedBrands: null, blocks: BRANDS },
      {
        brandId: null,
        everyBrand: 0,
        listedBrands: '["brand-a","brand-b"]',
        blocks: ["brand1", "brand-c"],
      },
      {
        brandId: null,
        everyBrand: 0,
        listedBrands: '["brand-a"]',
        blocks: ["brand-b", "brand1", "brand-c"],
      },
      { brandId: null, everyBrand: 0, listedBrands: "[]", blocks: BRANDS },
      { brandId: "brand-a", everyBrand: 0, listedBrands: null, blocks: ["brand-a"] },
      { brandId: "brand-a", everyBrand: 1, listedBrands: null, blocks: BRANDS },
      { brandId: null, everyBrand: 1, listedBrands: '["brand-a"]', blocks: BRANDS },
    ];
    for (const tombstone of CASES) {
      const id = uniqueId("rule");
      await env.DB.prepare(
        "INSERT INTO transactions (transaction_id, player_id, status, brand_id, every_brand, listed_brands, created_at_ms) VALUES (?, NULL, 'tombstone', ?, ?, ?, ?)",
      )
        .bind(id, tombstone.brandId, tombstone.everyBrand, tombstone.listedBrands, Date.now())
        .run();
      for (const brand of BRANDS) {
        const expected = tombstone.blocks.includes(brand);
        const what = `${JSON.stringify(tombstone)} for ${brand}`;
        expect(tombstoneBlocks(tombstone, brand), what).toBe(expected);
        expect(await givesWayInD1(id, brand), what).toBe(!expected);
      }
    }
  });

  it("a default-key cancel of an unknown id gives way to a listed brand's late original: applied once, reconciled", async () => {
    const a = await playerOf("brand-a");
    const id = uniqueId("default-tombstone");
    expect((await cancelAs(KEY_DEFAULT, id)).body).toEqual({ balance: "0" });
    expect(await listedBrandsOfRow(id)).toEqual({
      brand_id: null,
      every_brand: 0,
      listed_brands: '["brand-a","brand-b"]',
    });
    const original = await transact(a.playerId, { transaction_id: id }, { secret: KEY_A });
    expect(original.status, original.text).toBe(200);
    // A copy is a replay: the original is applied exactly once.
    const replay = await transact(a.playerId, { transaction_id: id }, { secret: KEY_A });
    expect(replay.status, replay.text).toBe(200);
    expect(await storedBalanceMinor(a.playerId)).toBe(900);
    expect(await entriesOf(id)).toEqual({
      applies: 1,
      reverses: 0,
      cancellations: 0,
      status: "applied",
    });
    expect(await reconcileProblemsOf([id])).toEqual([]);
  });

  it("a default-key cancel of an unknown id refuses the default key's late original", async () => {
    const other = await playerOf("brand1");
    const id = uniqueId("default-tombstone");
    expect((await cancelAs(KEY_DEFAULT, id)).body).toEqual({ balance: "0" });
    expectErrorShape(
      await transact(other.playerId, { transaction_id: id }, { secret: KEY_DEFAULT }),
      409,
      "TRANSACTION_CANCELLED",
    );
    expect(await storedBalanceMinor(other.playerId)).toBe(1000);
    expect(await entriesOf(id)).toEqual({
      applies: 0,
      reverses: 0,
      cancellations: 1,
      status: "tombstone",
    });
    expect(await reconcileProblemsOf([id])).toEqual([]);
  });

  it("a default-key tombstone from before brand B was listed refuses B's late original once B has its own key", async () => {
    const b = await playerOf("brand-b");
    const id = uniqueId("default-tombstone");
    // Only brand A has its own key yet: the default key signs for brand B's players.
    const beforeB = { WALLET_HMAC_SECRETS: JSON.stringify({ "brand-a": KEY_A }) };
    expect((await cancelAs(KEY_DEFAULT, id, beforeB)).body).toEqual({ balance: "0" });
    expect(await listedBrandsOfRow(id)).toMatchObject({ listed_brands: '["brand-a"]' });
    // Now B is listed (the suite's configuration): its late original, signed with its key.
    expectErrorShape(
      await transact(b.playerId, { transaction_id: id }, { secret: KEY_B }),
      409,
      "TRANSACTION_CANCELLED",
    );
    const batch = await wallet(
      "POST",
      "/wallet/transaction/batch",
      [batchItem(b.playerId, { transaction_id: id })],
      { secret: KEY_B },
    );
    expect(batch.status, batch.text).toBe(200);
    expect(batch.body.results[0].status).not.toBe("OK");
    expect(await storedBalanceMinor(b.playerId)).toBe(1000);
    expect(await entriesOf(id)).toMatchObject({ applies: 0, status: "tombstone" });
    // B's cancel of it adds nothing: the tombstone already blocks B.
    expect((await cancelAs(KEY_B, id)).body).toEqual({ balance: "0" });
    expect(await listedBrandsOfRow(id)).toMatchObject({ every_brand: 0 });
  });
});

describe("widening another brand's tombstone that an original just replaced", () => {
  it("brand B's cancel (no player) reads A's tombstone, B's original replaces it, then the cancel writes: the original is reversed", async () => {
    const b = await playerOf("brand-b");
    const id = uniqueId("widen-race");
    expect((await cancelAs(KEY_A, id)).body).toEqual({ balance: "0" });
    let originalStatus = 0;
    const db = withHookBeforeBatches(env.DB, async (call) => {
      if (call !== 0) return;
      // Between the cancel's read of A's tombstone and its first write: B's original commits.
      const original = await transact(b.playerId, { transaction_id: id }, { secret: KEY_B });
      originalStatus = original.status;
    });
    const cancel = await cancelAs(KEY_B, id, { DB: db });
    expect(originalStatus).toBe(200);
    // The cancel reversed the original: ThrillGate was told it is cancelled, and it is.
    expect(cancel.status, cancel.text).toBe(200);
    expect(cancel.body).toEqual({ balance: "10.00" });
    expect(await storedBalanceMinor(b.playerId)).toBe(1000);
    expect(await entriesOf(id)).toEqual({
      applies: 1,
      reverses: 1,
      cancellations: 1,
      status: "cancelled",
    });
    expect(await reconcileProblemsOf([id])).toEqual([]);
  });

  it("the ledger's widen fails on the key, whole, when the id is no longer a tombstone", async () => {
    const b = await playerOf("brand-b");
    const id = uniqueId("widen-guard");
    expect((await transact(b.playerId, { transaction_id: id }, { secret: KEY_B })).status).toBe(
      200,
    );
    const widen = commitWrites(ledgerDb(env.DB), [
      {
        kind: "tombstone",
        transactionId: id,
        playerId: null,
        batchId: null,
        brandId: "brand-b",
        listedBrands: null,
        widens: true,
      },
    ]);
    const error = await widen.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isIdTakenError(error), String(error)).toBe(true);
    expect(await entriesOf(id)).toEqual({
      applies: 1,
      reverses: 0,
      cancellations: 0,
      status: "applied",
    });
  });
});

describe("a cancel naming a player widens another brand's tombstone while an original replaces it", () => {
  it("whichever commits first, a cancel answered 200 leaves the original unapplied, and money ends where the answers say", async () => {
    for (let round = 0; round < 8; round++) {
      const canceller = await playerOf("brand-b");
      const owner = await playerOf("brand-b");
      const id = uniqueId("widen-object-race");
      expect((await cancelAs(KEY_A, id)).body).toEqual({ balance: "0" });
      const [cancel, original] = await Promise.all([
        wallet(
          "DELETE",
          "/wallet/cancel",
          { transaction_id: id, player_id: canceller.playerId },
          { secret: KEY_B },
        ),
        transact(owner.playerId, { transaction_id: id }, { secret: KEY_B }),
      ]);
      const entries = await entriesOf(id);
      if (original.status === 200) {
        // The original won: the cancel, which named another player, must not answer done.
        expectErrorShape(cancel, 400, "INVALID_REQUEST");
        expect(entries).toEqual({ applies: 1, reverses: 0, cancellations: 0, status: "applied" });
        expect(await storedBalanceMinor(owner.playerId)).toBe(900);
      } else {
        expectErrorShape(original, 409, "TRANSACTION_CANCELLED");
        expect(cancel.status, cancel.text).toBe(200);
        expect(entries).toMatchObject({ applies: 0, status: "tombstone" });
        expect(await storedBalanceMinor(owner.playerId)).toBe(1000);
      }
      expect(await storedBalanceMinor(canceller.playerId)).toBe(1000);
      expect(await reconcileProblemsOf([id])).toEqual([]);
    }
  });
});
