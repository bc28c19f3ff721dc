import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ID_CACHE_ENTRIES } from "../src/wallet/player-wallet";
import {
  batchItem,
  countRows,
  expectErrorShape,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  transact,
  uniqueId,
  wallet,
} from "./helpers";

// Issue 12.6: a cancel by batch_id undoes the batch in reverse order of application (a player's
// later items first), so a batch that could be applied can be undone whole. Issue 25.1: a batch_id
// that several requests grew past MAX_BATCH_SIZE is undone page after page inside the call's time
// budget, never refused for its size; a 200 means the whole batch is undone, and a call out of
// budget answers a retryable 503 that names what remains.

const cancelByBatchId = (batchId: string, vars: Partial<Cloudflare.Env> = {}) =>
  wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId }, { vars });

describe("cancel by batch_id", () => {
  it("undoes [Credit 10, Debit 10] on a player at 0.00 whole: the Debit is refunded first, then the Credit taken back", async () => {
    const { playerId } = await newPlayer({ balance: "0" });
    const batchId = uniqueId("batch");
    const credit = batchItem(playerId, { transaction_type: "Credit", amount: "10.00" });
    const debit = batchItem(playerId, { transaction_type: "Debit", amount: "10.00" });
    const applied = await wallet("POST", "/wallet/transaction/batch", {
      batch_id: batchId,
      transactions: [credit, debit],
    });
    expect(applied.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);

    const undone = await cancelByBatchId(batchId);
    expect(undone.status).toBe(200);
    expect(undone.body).toEqual({
      batch_id: batchId,
      results: [
        { transaction_id: debit.transaction_id, status: "OK", balance: "10.00" },
        { transaction_id: credit.transaction_id, status: "OK", balance: "0.00" },
      ],
    });
    expect(await storedBalanceMinor(playerId)).toBe(0);
    expect(await countRows("ledger_entries", playerId)).toBe(4);
    // A retry answers the same per item and changes nothing.
    const again = await cancelByBatchId(batchId);
    expect(again.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);
    expect(await countRows("ledger_entries", playerId)).toBe(4);
  });

  it("a chain of items of one player applied by several requests is undone last first, across players", async () => {
    const [a, b] = [await newPlayer({ balance: "0" }), await newPlayer({ balance: "0" })];
    const batchId = uniqueId("batch");
    // Each Debit spends the Credit before it: only last-first undoing never overdraws.
    const steps = [
      [
        batchItem(a.playerId, { transaction_type: "Credit", amount: "5.00" }),
        batchItem(b.playerId, { transaction_type: "Credit", amount: "1.00" }),
      ],
      [
        batchItem(a.playerId, { amount: "5.00" }),
        batchItem(a.playerId, { transaction_type: "Credit", amount: "2.00" }),
      ],
      [batchItem(a.playerId, { amount: "2.00" }), batchItem(b.playerId, { amount: "1.00" })],
    ];
    for (const transactions of steps) {
      const answer = await wallet("POST", "/wallet/transaction/batch", {
        batch_id: batchId,
        transactions,
      });
      expect(
        answer.body.results.every((r: { status: string }) => r.status === "OK"),
        answer.text,
      ).toBe(true);
    }
    const undone = await cancelByBatchId(batchId);
    expect(
      undone.body.results.every((r: { status: string }) => r.status === "OK"),
      undone.text,
    ).toBe(true);
    expect(undone.body.results).toHaveLength(6);
    for (const player of [a, b]) {
      expect(await storedBalanceMinor(player.playerId)).toBe(0);
      expect(await ledgerAddsUp(player.playerId)).toBe(true);
    }
  });

  it("out of budget, a batch_id grown past MAX_BATCH_SIZE answers 503 per page and 200 only once every item is reversed, none twice", async () => {
    const [a, b] = [await newPlayer({ balance: "20.00" }), await newPlayer({ balance: "20.00" })];
    const batchId = uniqueId("batch");
    // A budget of 0 ms: each call undoes one page with something to reverse, then stops.
    const vars = { MAX_BATCH_SIZE: "3", BATCH_CANCEL_BUDGET_MS: "0" };
    // Player a's Debit spends the Credit before it: only last-first undoing never overdraws.
    const items = [
      batchItem(a.playerId, { transaction_type: "Credit", amount: "30.00" }),
      ...Array.from({ length: 5 }, (_, i) =>
        batchItem(i % 2 ? a.playerId : b.playerId, { amount: "1.00" }),
      ),
      batchItem(a.playerId, { amount: "45.00" }),
    ];
    for (const transactions of [items.slice(0, 3), items.slice(3, 6), items.slice(6)]) {
      const answer = await wallet(
        "POST",
        "/wallet/transaction/batch",
        { batch_id: batchId, transactions },
        { vars },
      );
      expect(answer.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
    }
    const ids = items.map((item) => String(item.transaction_id));
    // Each player's items last applied first, every item once (players' items may interleave).
    const lastFirstPerPlayer = (results: { transaction_id: string }[]) => {
      const answered = results.map((r) => r.transaction_id);
      return (
        answered.length === ids.length &&
        [a, b].every(({ playerId }) => {
          const own = items.filter((item) => item.player_id === playerId);
          const ownIds = own.map((item) => String(item.transaction_id));
          const inAnswer = answered.filter((id) => ownIds.includes(id));
          return JSON.stringify(inAnswer) === JSON.stringify([...ownIds].reverse());
        })
      );
    };

    const statuses: number[] = [];
    for (let call = 1; call <= 5; call++) {
      const answer = await cancelByBatchId(batchId, vars);
      statuses.push(answer.status);
      const stillApplied = await appliedCount(ids);
      if (answer.status === 200) {
        expect(stillApplied, "a 200 with items still applied").toBe(0);
        expect(lastFirstPerPlayer(answer.body.results)).toBe(true);
        expect(answer.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
        break;
      }
      expectErrorShape(answer, 503, "UNAVAILABLE");
      expect(answer.body.message).toContain(`${stillApplied} of its 7 items remain applied`);
      expect(stillApplied).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([503, 503, 200]);
    expect(await storedBalanceMinor(a.playerId)).toBe(2000);
    expect(await storedBalanceMinor(b.playerId)).toBe(2000);
    expect(await entriesPerId(ids)).toEqual(ids.map((id) => `${id} apply reverse`).sort());

    // A retry after the 200 answers the same per item and writes nothing.
    const again = await cancelByBatchId(batchId, vars);
    expect(again.status, again.text).toBe(200);
    expect(lastFirstPerPlayer(again.body.results)).toBe(true);
    expect(await entriesPerId(ids)).toEqual(ids.map((id) => `${id} apply reverse`).sort());
    for (const player of [a, b]) expect(await ledgerAddsUp(player.playerId)).toBe(true);
  });

  it("a batch item whose cancel is refused is answered in the 200 with its reason, and the rest is undone", async () => {
    const { playerId } = await newPlayer({ balance: "0" });
    const batchId = uniqueId("batch");
    const vars = { MAX_BATCH_SIZE: "2", BATCH_CANCEL_BUDGET_MS: "0" };
    const credit = batchItem(playerId, { transaction_type: "Credit", amount: "5.00" });
    const debits = Array.from({ length: 4 }, () => batchItem(playerId, { amount: "0.50" }));
    for (const transactions of [[credit, debits[0]!], debits.slice(1, 3), debits.slice(3)]) {
      await wallet(
        "POST",
        "/wallet/transaction/batch",
        { batch_id: batchId, transactions },
        { vars },
      );
    }
    // Spent outside the batch: the Credit cannot be taken back.
    expect((await transact(playerId, { amount: "3.00" })).status).toBe(200);

    const statuses: number[] = [];
    let last = await cancelByBatchId(batchId, vars);
    statuses.push(last.status);
    for (let call = 2; call <= 5 && last.status !== 200; call++) {
      last = await cancelByBatchId(batchId, vars);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([503, 503, 200]);
    expect(last.body.results.at(-1)).toMatchObject({
      transaction_id: credit.transaction_id,
      status: "ERROR",
      error: { code: "INSUFFICIENT_FUNDS" },
    });
    expect(last.body.results.slice(0, 4).every((r: { status: string }) => r.status === "OK")).toBe(
      true,
    );
    expect(await storedBalanceMinor(playerId)).toBe(200);
  });
});

describe("a player's batch larger than its object's id cache", () => {
  it("is undone in groups: no group is sent back one at a time because the cache evicted its own ids", async () => {
    const { playerId } = await newPlayer({ balance: "10000.00" });
    const batchId = uniqueId("batch");
    const count = ID_CACHE_ENTRIES + 200;
    const items = Array.from({ length: count }, () => batchItem(playerId, { amount: "0.01" }));
    for (let start = 0; start < count; start += 1000) {
      const sent = await wallet("POST", "/wallet/transaction/batch", {
        batch_id: batchId,
        transactions: items.slice(start, start + 1000),
      });
      expect(sent.status, sent.text.slice(0, 300)).toBe(200);
    }
    const errors = vi.spyOn(console, "error");
    try {
      const undone = await cancelByBatchId(batchId);
      expect(undone.status, undone.text.slice(0, 300)).toBe(200);
      expect(undone.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
      const logged = errors.mock.calls.map((call) => String(call[0]));
      expect(logged.filter((line) => line.includes("group_write_failed"))).toEqual([]);
    } finally {
      errors.mockRestore();
    }
    expect(await storedBalanceMinor(playerId)).toBe(1_000_000);
  });
});

/** Of these transaction ids, how many D1 holds as still applied. */
async function appliedCount(ids: string[]): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT count(*) AS n FROM transactions WHERE status = 'applied' AND transaction_id IN (${ids.map(() => "?").join(",")})`,
  )
    .bind(...ids)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Each id's ledger entries as "id effect effect…", sorted: a reversal written twice shows. */
async function entriesPerId(ids: string[]): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT transaction_id AS id, group_concat(effect, ' ') AS effects FROM (SELECT transaction_id, effect FROM ledger_entries WHERE transaction_id IN (${ids.map(() => "?").join(",")}) ORDER BY id) GROUP BY transaction_id`,
  )
    .bind(...ids)
    .all<{ id: string; effects: string }>();
  return results.map((row) => `${row.id} ${row.effects}`).sort();
}
