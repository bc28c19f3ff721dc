import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ledgerDb } from "../src/ledger/db";
import { exportPages } from "../src/ledger/export";
import { admin, batchItem, newPlayer, uniqueId, wallet } from "./helpers";
import { collectPages, iteratorPages, pageBudget } from "./pages";

// Every keyset pager of the wallet, read page by page and compared with a reference: exactly the
// ids in range, in order, none missing and none twice. The fixture gives runs of consecutive
// entry ids one created_at_ms each, as a group commit does: a pager whose next page starts after
// `id + 1` instead of after the last entry read drops a row exactly there, and page sizes 1, 2
// and 7 put page boundaries inside the runs. Every loop has a page budget (test/pages.ts), so a
// pager that repeats a row fails in seconds instead of running on.
// A new pager (the ledger archive's, say) gets a describe block here, read the same way.

const PAGE_SIZES = [1, 2, 7];
// Lengths of the runs of consecutive ids sharing a millisecond, in turn: 1 to 8 entries.
const RUN_LENGTHS = [2, 3, 1, 4, 2, 5, 3, 8];
// 2021, a year no other entry of this file's database is stamped in.
const FROM_MS = Date.parse("2021-03-01T00:00:00.000Z");
const RUN_SLOTS = 101; // a prime: run k at FROM_MS + (k·7 mod 101) is a distinct millisecond
const TO_MS = FROM_MS + RUN_SLOTS;

interface Entry {
  id: number;
  playerId: string;
  createdAtMs: number;
}

/** Entries in [fromMs, toMs) in the export's order, (created_at_ms, id): what a pager must give. */
function idsInRange(entries: Entry[], fromMs: number, toMs: number): number[] {
  return entries
    .filter((e) => e.createdAtMs >= fromMs && e.createdAtMs < toMs)
    .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id - b.id)
    .map((e) => e.id);
}

describe("keyset pagers against a reference, over runs of ids that share a millisecond", () => {
  // Entry counts per player: one a multiple of every page size (its last page is full, and an
  // empty page follows), the others not.
  const counts = [14, 15, 31];
  const playerIds: string[] = [];
  let entries: Entry[] = [];

  beforeAll(async () => {
    for (const _ of counts) playerIds.push((await newPlayer()).playerId);
    const items = counts.flatMap((count, p) =>
      Array.from({ length: count }, (_, i) =>
        batchItem(playerIds[p] ?? "", { transaction_type: "Credit", amount: `0.${10 + i}` }),
      ),
    );
    const answer = await wallet("POST", "/wallet/transaction/batch", {
      batch_id: uniqueId("pgb"),
      transactions: items,
    });
    expect(answer.status, answer.text).toBe(200);

    const rows = await env.DB.prepare(
      `SELECT id, player_id AS playerId FROM ledger_entries WHERE player_id IN (?, ?, ?) ORDER BY id`,
    )
      .bind(...playerIds)
      .all<{ id: number; playerId: string }>();
    expect(rows.results.length).toBe(60);
    // Restamp them: run after run of consecutive ids, each run one millisecond, the runs in an
    // order of time that is not the order of ids; the first run just before the range, the last
    // one at its (exclusive) end. Only the time moves: balances and reconciliation are untouched.
    let run = 0;
    let left = RUN_LENGTHS[0] ?? 1;
    const runs: number[] = [];
    for (const _ of rows.results) {
      if (left === 0) {
        run += 1;
        left = RUN_LENGTHS[run % RUN_LENGTHS.length] ?? 1;
      }
      runs.push(run);
      left -= 1;
    }
    const lastRun = run;
    entries = rows.results.map((row, i) => {
      const k = runs[i] ?? 0;
      const createdAtMs =
        k === 0 ? FROM_MS - 1 : k === lastRun ? TO_MS : FROM_MS + ((k * 7) % RUN_SLOTS);
      return { ...row, createdAtMs };
    });
    await env.DB.batch(
      entries.map((e) =>
        env.DB.prepare("UPDATE ledger_entries SET created_at_ms = ? WHERE id = ?").bind(
          e.createdAtMs,
          e.id,
        ),
      ),
    );
    // The fixture holds what it claims to: consecutive ids sharing a millisecond, runs whose time
    // order is not their id order, and entries on both sides of the range.
    const sharing = entries.filter((e, i) => entries[i + 1]?.createdAtMs === e.createdAtMs);
    expect(sharing.length).toBeGreaterThan(30);
    expect(idsInRange(entries, FROM_MS, TO_MS)).not.toEqual(
      entries.filter((e) => e.createdAtMs >= FROM_MS && e.createdAtMs < TO_MS).map((e) => e.id),
    );
    expect(entries.filter((e) => e.createdAtMs === FROM_MS - 1).length).toBe(2);
    expect(entries.filter((e) => e.createdAtMs === TO_MS).length).toBeGreaterThan(1);
  });

  describe("the ledger export (exportPages, GET /admin/ledger/export)", () => {
    it("pages of 1, 2 and 7 give exactly the ids of the range, in (created_at_ms, id) order", async () => {
      const db = ledgerDb(env.DB);
      // The whole range, and one cut at runs' milliseconds, so `from` and `to` fall on runs.
      const firstRunMs = FROM_MS + 7;
      const laterRunMs = FROM_MS + ((9 * 7) % RUN_SLOTS);
      for (const [fromMs, toMs] of [
        [FROM_MS, TO_MS],
        [firstRunMs, laterRunMs],
      ] as const) {
        const want = idsInRange(entries, fromMs, toMs);
        expect(want.length).toBeGreaterThan(10);
        for (const size of PAGE_SIZES) {
          const ids = await collectPages(
            iteratorPages(exportPages(db, fromMs, toMs, size)),
            pageBudget(want.length, size),
          );
          expect(ids.map((e) => e.id)).toEqual(want);
        }
      }
    });

    it("over HTTP, the same ids in the same order", async () => {
      const answer = await admin(
        "GET",
        `/admin/ledger/export?from=${new Date(FROM_MS).toISOString()}&to=${new Date(TO_MS).toISOString()}`,
      );
      expect(answer.status).toBe(200);
      const ids = answer.text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line).entry_id);
      expect(ids).toEqual(idsInRange(entries, FROM_MS, TO_MS));
    });
  });

  describe("a player's ledger (GET /admin/players/{id}/ledger, before=next_before)", () => {
    it("pages of 1, 2 and 7 give exactly the player's ids, newest first", async () => {
      for (const [p, playerId] of playerIds.entries()) {
        const want = entries
          .filter((e) => e.playerId === playerId)
          .map((e) => e.id)
          .reverse();
        expect(want.length).toBe(counts[p]);
        for (const size of PAGE_SIZES) {
          const ids = await collectPages<number, number>(
            async (before) => {
              const answer = await admin(
                "GET",
                `/admin/players/${playerId}/ledger?limit=${size}${before === undefined ? "" : `&before=${before}`}`,
              );
              expect(answer.status, answer.text).toBe(200);
              expect(answer.body.entries.length).toBeLessThanOrEqual(size);
              return {
                items: answer.body.entries.map((e: { id: number }) => e.id),
                next: answer.body.next_before,
              };
            },
            pageBudget(want.length, size),
          );
          expect(ids).toEqual(want);
        }
      }
    });
  });
});

describe("collectPages", () => {
  it("fails over its page budget, at once, when a pager names the same page forever", async () => {
    let asked = 0;
    const repeating = async () => {
      asked += 1;
      return { items: [1], next: 1 };
    };
    await expect(collectPages(repeating, 5)).rejects.toThrow(/over the page budget: 5 pages/);
    expect(asked).toBe(5);
  });

  it("pageBudget leaves room for a part-full last page and the end of an iterable, no more", () => {
    expect(pageBudget(14, 7)).toBe(4);
    expect(pageBudget(15, 7)).toBe(4);
    expect(pageBudget(0, 1)).toBe(2);
  });
});
