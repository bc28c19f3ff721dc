import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dayCancellationRows, dayIdRows } from "../src/ledger/archive";
import { exportPagesAcrossArchive } from "../src/ledger/archive-read";
import { ledgerDb } from "../src/ledger/db";
import { MS_PER_DAY } from "../src/ledger/report";
import { runArchive } from "../src/jobs/archive";

// The archive's keyset pagers, read in pages of 1, 2 and 7 over runs of consecutive rows that share
// one millisecond, against exactly the rows in range, each within a page budget: the day's id rows
// and cancellations (the job's reads), and the export across the boundary (R2 days, then D1).

const DAY = Date.UTC(2024, 5, 1) / MS_PER_DAY;
const START = DAY * MS_PER_DAY;
const PLAYER = "pager-player";

/** Every page of a pager, failing if it takes more pages than `budget`. */
async function collect<T>(pages: AsyncGenerator<T[]>, budget: number): Promise<T[]> {
  const rows: T[] = [];
  let taken = 0;
  for await (const page of pages) {
    taken += 1;
    if (taken > budget) throw new Error(`more than ${budget} pages`);
    rows.push(...page);
  }
  return rows;
}

// Runs sharing one millisecond, across the day's first and last millisecond, with rows just outside.
const TIMES = [
  START - 1,
  START,
  START,
  START,
  START + 5,
  START + 9,
  START + 9,
  START + 9,
  START + 9,
  START + 9,
  START + MS_PER_DAY - 1,
  START + MS_PER_DAY - 1,
  START + MS_PER_DAY,
  START + MS_PER_DAY,
  START + MS_PER_DAY + 7,
];

async function seed() {
  const statements = [
    env.DB.prepare(
      "INSERT INTO players (id, operator_id, brand_id, currency, balance_minor, opening_balance_minor, segments, created_at_ms) VALUES (?, 'op', 'b', 'EUR', ?, 0, '[]', 0)",
    ).bind(PLAYER, TIMES.length * 100),
  ];
  TIMES.forEach((ms, n) => {
    const id = `pg-${String(n).padStart(3, "0")}`;
    statements.push(
      env.DB.prepare(
        "INSERT INTO transactions (transaction_id, player_id, status, type, amount_minor, currency, balance_after_minor, created_at_ms) VALUES (?, ?, 'applied', 'Credit', 100, 'EUR', ?, ?)",
      ).bind(id, PLAYER, (n + 1) * 100, ms),
      env.DB.prepare(
        "INSERT INTO ledger_entries (player_id, transaction_id, effect, type, delta_minor, balance_after_minor, currency, created_at_ms) VALUES (?, ?, 'apply', 'Credit', 100, ?, 'EUR', ?)",
      ).bind(PLAYER, id, (n + 1) * 100, ms),
      // A tombstone of no player at the same time: never one of the day's archived rows.
      env.DB.prepare(
        "INSERT INTO cancellations (transaction_id, player_id, outcome, created_at_ms) VALUES (?, ?, 'tombstone', ?)",
      ).bind(`${id}-t`, n % 3 === 0 ? null : PLAYER, ms),
    );
  });
  await env.DB.batch(statements);
}

const inDay = (ms: number) => ms >= START && ms < START + MS_PER_DAY;

describe("the archive's pagers", () => {
  it("read a day's id rows and cancellations in pages of 1, 2 and 7, exactly the rows of the day", async () => {
    await seed();
    const db = ledgerDb(env.DB);
    const ids = TIMES.flatMap((ms, n) => (inDay(ms) ? [`pg-${String(n).padStart(3, "0")}`] : []));
    const cancelled = TIMES.flatMap((ms, n) =>
      inDay(ms) && n % 3 !== 0 ? [`pg-${String(n).padStart(3, "0")}-t`] : [],
    );
    for (const size of [1, 2, 7]) {
      const idRows = await collect(dayIdRows(db, DAY, size), Math.ceil(ids.length / size) + 1);
      expect(idRows.map((r) => r.transactionId)).toEqual(ids);
      const cancellations = await collect(
        dayCancellationRows(db, DAY, size),
        Math.ceil(cancelled.length / size) + 1,
      );
      expect(cancellations.map((r) => r.transactionId)).toEqual(cancelled);
    }
  });

  it("export a range across an archived day and a live one in pages of 1, 2 and 7, in one order", async () => {
    const db = ledgerDb(env.DB);
    const fromMs = START + 5;
    const toMs = START + MS_PER_DAY + 7;
    const expected = await collect(
      exportPagesAcrossArchive(db, env.LEDGER_ARCHIVE, fromMs, toMs),
      2,
    );
    expect(expected.map((e) => e.createdAtMs)).toEqual(
      TIMES.filter((ms) => ms >= fromMs && ms < toMs),
    );

    // Archive DAY (and the day before it), keep the day after it live.
    const run = await runArchive(env, (DAY + 1 + 35) * MS_PER_DAY, "manual");
    expect(run.error).toBeNull();
    const live = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM ledger_entries WHERE player_id = ?",
    )
      .bind(PLAYER)
      .first<{ n: number }>();
    expect(live?.n).toBe(3);

    for (const size of [1, 2, 7]) {
      const liveRows = TIMES.filter((ms) => ms >= START + MS_PER_DAY && ms < toMs).length;
      // One page per archived part (one here), then the live pages.
      const budget = 1 + Math.ceil(liveRows / size) + 1;
      const across = await collect(
        exportPagesAcrossArchive(db, env.LEDGER_ARCHIVE, fromMs, toMs, size),
        budget,
      );
      expect(across).toEqual(expected);
    }
  });
});
