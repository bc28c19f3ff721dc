import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { aroundD1Calls } from "../src/ledger/d1-round-trip";
import {
  admin,
  batchItem,
  expectErrorShape,
  ledgerAddsUp,
  newPlayer,
  storedBalanceMinor,
  uniqueId,
  wallet,
} from "./helpers";

// A cancel by batch_id while items of that batch are still being applied (ThrillGate's original
// batch queued in a player's object when the cancel arrives). The real local D1 is wrapped so that,
// right after the cancel's nth read of the batch's items, more items of the same batch_id are
// applied through the wallet, and committed, before the cancel goes on. The cancel must not answer
// 200 while any item of the batch is still applied.

/** True for the query that lists a batch_id's items (transactionsOfBatch). */
const readsBatchItems = (query: string) =>
  /"batch_id"/.test(query) && /left join "ledger_entries"/i.test(query);

/** `d1` with `after(n)` awaited after the nth (from 0) read of a batch's items has answered. */
function withHookAfterBatchReads(
  d1: D1Database,
  after: (read: number) => Promise<void>,
): D1Database {
  let reads = 0;
  return aroundD1Calls(d1, {
    after: (call) =>
      call.kind === "statement" && readsBatchItems(call.queries[0] ?? "")
        ? after(reads++)
        : undefined,
  });
}

const applyUnder = async (batchId: string, items: Record<string, unknown>[]) => {
  const answer = await wallet("POST", "/wallet/transaction/batch", {
    batch_id: batchId,
    transactions: items,
  });
  expect(
    answer.body.results.every((r: { status: string }) => r.status === "OK"),
    answer.text,
  ).toBe(true);
};

async function rowsOfBatch(batchId: string) {
  const { results } = await env.DB.prepare(
    `SELECT t.transaction_id AS id, t.status AS status,
       (SELECT COUNT(*) FROM ledger_entries e WHERE e.transaction_id = t.transaction_id AND e.effect = 'apply') AS applies,
       (SELECT COUNT(*) FROM ledger_entries e WHERE e.transaction_id = t.transaction_id AND e.effect = 'reverse') AS reversals
     FROM transactions t WHERE t.batch_id = ?`,
  )
    .bind(batchId)
    .all<{ id: string; status: string; applies: number; reversals: number }>();
  return results;
}

/** Every item of the batch applied once and reversed once; the ledger adds up. */
async function expectWholeBatchUndone(batchId: string, ids: string[], playerIds: string[]) {
  const rows = await rowsOfBatch(batchId);
  expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
  for (const row of rows)
    expect(row).toEqual({ ...row, status: "cancelled", applies: 1, reversals: 1 });
  for (const playerId of playerIds) {
    expect(await storedBalanceMinor(playerId)).toBe(1000);
    expect(await ledgerAddsUp(playerId)).toBe(true);
  }
  expect((await admin("GET", "/admin/reconcile")).body.ok).toBe(true);
}

describe("cancel by batch_id while items of the batch are still being applied", () => {
  it("takes the items applied after its read too, and answers 200 only when none is applied", async () => {
    const [a, b] = [await newPlayer({ balance: "10.00" }), await newPlayer({ balance: "10.00" })];
    const batchId = uniqueId("batch");
    const first = [batchItem(a.playerId), batchItem(b.playerId), batchItem(a.playerId)];
    const late = [
      [batchItem(a.playerId), batchItem(b.playerId)], // applied right after the first read
      [batchItem(b.playerId, { amount: "2.00" })], // and after the second
    ];
    await applyUnder(batchId, first);
    const db = withHookAfterBatchReads(env.DB, async (read) => {
      const items = late[read];
      if (items) await applyUnder(batchId, items);
    });

    const answer = await wallet(
      "DELETE",
      "/wallet/transaction/batch",
      { batch_id: batchId },
      { vars: { DB: db } },
    );
    expect(answer.status, answer.text).toBe(200);
    // No item of the batch is still applied, and the answer covers every one.
    const ids = [...first, ...late.flat()].map((item) => String(item.transaction_id));
    expect(
      answer.body.results.map((r: { transaction_id: string }) => r.transaction_id).sort(),
    ).toEqual([...ids].sort());
    expect(answer.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
    await expectWholeBatchUndone(batchId, ids, [a.playerId, b.playerId]);

    // A retry answers the same per item and writes nothing.
    const again = await wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId });
    expect(again.status).toBe(200);
    expect(again.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
    await expectWholeBatchUndone(batchId, ids, [a.playerId, b.playerId]);
  });

  it("out of budget with late items still applied answers 503, and the retry undoes them", async () => {
    const p = await newPlayer({ balance: "10.00" });
    const batchId = uniqueId("batch");
    const first = [batchItem(p.playerId), batchItem(p.playerId)];
    const late = [batchItem(p.playerId), batchItem(p.playerId, { amount: "3.00" })];
    await applyUnder(batchId, first);
    const db = withHookAfterBatchReads(env.DB, async (read) => {
      if (read === 0) await applyUnder(batchId, late);
    });

    // A budget of 0: the first round still undoes its page; the late items are left to a retry.
    const answer = await wallet(
      "DELETE",
      "/wallet/transaction/batch",
      { batch_id: batchId },
      { vars: { DB: db, BATCH_CANCEL_BUDGET_MS: "0" } },
    );
    expectErrorShape(answer, 503, "UNAVAILABLE");
    expect(answer.body.message).toContain("2 items reversed");
    expect(answer.body.message).toContain("2 of its 4 items remain applied");
    const applied = (await rowsOfBatch(batchId)).filter((row) => row.status === "applied");
    expect(applied.map((row) => row.id).sort()).toEqual(
      late.map((item) => String(item.transaction_id)).sort(),
    );

    const retry = await wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId });
    expect(retry.status, retry.text).toBe(200);
    const ids = [...first, ...late].map((item) => String(item.transaction_id));
    expect(retry.body.results.map((r: { transaction_id: string }) => r.transaction_id)).toEqual(
      // The last applied first.
      [...ids].reverse(),
    );
    await expectWholeBatchUndone(batchId, ids, [p.playerId]);
  });
});
