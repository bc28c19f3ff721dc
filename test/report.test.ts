import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { ledgerDb } from "../src/ledger/db";
import { MAX_MINOR_UNITS } from "../src/money";
import { dailyTotalsQuery } from "../src/ledger/report";
import { decimal } from "./decimal";
import { admin, batchItem, cancel, expectErrorShape, transact, uniqueId, wallet } from "./helpers";

// GET /admin/reports/daily: the totals are checked against sums this file computes itself from
// the ledger entries the calls wrote, read back from D1 row by row.

const DAY_MS = 86_400_000;

interface Player {
  id: string;
  operatorId: string;
  brandId: string;
  currency: string;
}

/** A player made through the admin API (ThrillGate's transactions need no session token). */
async function player(operatorId: string, brandId: string, currency: string, balance: string) {
  const created: Player = { id: uniqueId("rp"), operatorId, brandId, currency };
  const answer = await admin("POST", "/admin/players", {
    player_id: created.id,
    operator_id: operatorId,
    brand_id: brandId,
    currency,
    balance,
  });
  expect(answer.status).toBe(201);
  return created;
}

async function ok(answer: Promise<{ status: number; text: string }>) {
  const { status, text } = await answer;
  if (status !== 200) throw new Error(`expected 200, got ${status} ${text}`);
}

/** A Debit, Credit or None of `amount` through POST /wallet/transaction; answers its id. */
async function play(p: Player, type: string, amount: string, extra: object = {}) {
  const transactionId = uniqueId("rtx");
  await ok(
    transact(p.id, {
      transaction_id: transactionId,
      transaction_type: type,
      amount,
      currency: p.currency,
      ...extra,
    }),
  );
  return transactionId;
}

/** A transfer through the admin API, as an operator makes it. */
async function transfer(p: Player, type: "TransferIn" | "TransferOut", amountMinor: number) {
  const answer = await admin("POST", `/admin/players/${encodeURIComponent(p.id)}/transfers`, {
    transfer_id: uniqueId("rtr"),
    direction: type === "TransferIn" ? "in" : "out",
    amount: decimal(amountMinor, p.currency),
    reason: "test",
  });
  expect(answer.status, answer.text).toBe(200);
}

interface Entry {
  id: number;
  player_id: string;
  transaction_id: string;
  effect: string;
  type: string;
  delta_minor: number;
  currency: string;
  created_at_ms: number;
}

async function entriesOf(players: Player[]): Promise<Entry[]> {
  const rows = await env.DB.prepare(
    `SELECT id, player_id, transaction_id, effect, type, delta_minor, currency, created_at_ms FROM ledger_entries
     WHERE player_id IN (${players.map(() => "?").join(",")}) ORDER BY id`,
  )
    .bind(...players.map((p) => p.id))
    .all<Entry>();
  return rows.results;
}

/**
 * The wallet stamps each entry with its own clock, and a test cannot wait for UTC days to pass: so
 * once the calls are made, each entry is moved to the instant it should have been written at. The
 * report reads no other time than an entry's created_at_ms.
 */
async function moveEntries(
  entries: Entry[],
  instants: number[],
  exceptions: Map<string, number> = new Map(),
): Promise<Entry[]> {
  const moved = entries.map((entry, i) => ({
    ...entry,
    created_at_ms: exceptions.get(entry.transaction_id) ?? instants[i % instants.length] ?? 0,
  }));
  await env.DB.batch(
    moved.map((entry) =>
      env.DB.prepare("UPDATE ledger_entries SET created_at_ms = ? WHERE id = ?").bind(
        entry.created_at_ms,
        entry.id,
      ),
    ),
  );
  return moved;
}

const TALLY_OF: Record<string, string> = {
  "apply Debit": "debits",
  "apply Credit": "credits",
  "reverse Debit": "cancelled_debits",
  "reverse Credit": "cancelled_credits",
  "apply TransferIn": "transfers_in",
  "apply TransferOut": "transfers_out",
};
const TALLIES = [
  "debits",
  "credits",
  "cancelled_debits",
  "cancelled_credits",
  "transfers_in",
  "transfers_out",
];

/**
 * The report's JSON text as the contract defines it, computed from the entries one by one: a row
 * per (UTC day, operator, brand, currency) with entries in [fromMs, toMs), each tally's amount
 * positive, None counting nowhere, ggr = debits − credits − cancelled debits + cancelled credits.
 */
function expectedReport(entries: Entry[], players: Player[], fromMs: number, toMs: number) {
  const owner = new Map(players.map((p) => [p.id, p]));
  const rows = new Map<string, { key: string[]; sums: Record<string, [number, number]> }>();
  for (const entry of entries) {
    if (entry.created_at_ms < fromMs || entry.created_at_ms >= toMs) continue;
    const p = owner.get(entry.player_id);
    if (!p) throw new Error(`an entry of an unknown player ${entry.player_id}`);
    const date = new Date(Math.floor(entry.created_at_ms / DAY_MS) * DAY_MS)
      .toISOString()
      .slice(0, 10);
    const key = [date, p.operatorId, p.brandId, entry.currency];
    const row = rows.get(key.join("\n")) ?? {
      key,
      sums: Object.fromEntries(TALLIES.map((t) => [t, [0, 0]])),
    };
    rows.set(key.join("\n"), row);
    const tally = TALLY_OF[`${entry.effect} ${entry.type}`];
    const sum = tally ? row.sums[tally] : undefined;
    if (sum) {
      sum[0] += 1;
      sum[1] += Math.abs(entry.delta_minor);
    }
  }
  const sorted = [...rows.values()].sort((a, b) => {
    for (let i = 0; i < 4; i++) {
      const [x, y] = [a.key[i] ?? "", b.key[i] ?? ""];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  const days = sorted.map(({ key: [date, operatorId, brandId, currency = ""], sums }) => {
    const amount = (t: string) => sums[t]?.[1] ?? 0;
    const ggr =
      amount("debits") -
      amount("credits") -
      amount("cancelled_debits") +
      amount("cancelled_credits");
    return {
      date,
      operator_id: operatorId,
      brand_id: brandId,
      currency,
      ...Object.fromEntries(
        TALLIES.map((t) => [
          t,
          { count: sums[t]?.[0] ?? 0, amount: JSON.rawJSON(decimal(amount(t), currency)) },
        ]),
      ),
      ggr: JSON.rawJSON(decimal(ggr, currency)),
    };
  });
  return JSON.stringify({ days });
}

const at = (iso: string) => Date.parse(iso);
const report = (query: string) => admin("GET", `/admin/reports/daily?${query}`);

describe("GET /admin/reports/daily", () => {
  // Two operators, three brands, EUR and JPY; Debits, Credits, cancels of both, a None, batch
  // items, a refusal and a tombstone (which write no entry), transfers; spread over UTC days.
  let players: Player[] = [];
  let entries: Entry[] = [];
  const FROM = "2021-03-01";
  const TO = "2021-03-04";

  beforeAll(async () => {
    const tag = uniqueId("r");
    const a1 = await player(`opA_${tag}`, `brA_${tag}`, "EUR", "500.00");
    const a2 = await player(`opA_${tag}`, `brA_${tag}`, "EUR", "50.00");
    const b1 = await player(`opB_${tag}`, `brB_${tag}`, "JPY", "100000");
    const b2 = await player(`opB_${tag}`, `brB_${tag}`, "EUR", "200.00");
    // A second operator with a brand of the same name: the key is (operator, brand).
    const c1 = await player(`opB_${tag}`, `brA_${tag}`, "EUR", "80.00");
    players = [a1, a2, b1, b2, c1];

    await play(a1, "Debit", "12.30", { round_id: "r1" });
    await play(a1, "Credit", "5.05");
    await ok(cancel(await play(a1, "Debit", "7.00"), a1.id));
    await ok(cancel(await play(a1, "Credit", "3.33"), a1.id));
    await play(a1, "None", "0");
    await play(a2, "Debit", "0.01");
    await play(b1, "Debit", "1500");
    await play(b1, "Credit", "300");
    await ok(cancel(await play(b1, "Debit", "200"), b1.id));
    await ok(cancel(await play(b1, "Credit", "50"), b1.id));
    await play(b2, "Credit", "99.99");
    await play(c1, "Debit", "80.00");
    // Two entries moved just outside the range below.
    const before = await play(a1, "Debit", "0.42");
    const after = await play(b1, "Credit", "9");
    const batch = await wallet("POST", "/wallet/transaction/batch", {
      batch_id: uniqueId("rb"),
      transactions: [
        batchItem(a2.id, { transaction_type: "Debit", amount: "1.11", currency: "EUR" }),
        batchItem(a2.id, { transaction_type: "Credit", amount: "2.22", currency: "EUR" }),
        batchItem(b1.id, { transaction_type: "Debit", amount: "100", currency: "JPY" }),
        batchItem(b2.id, { transaction_type: "Debit", amount: "10.00", currency: "EUR" }),
        batchItem(b2.id, { transaction_type: "Credit", amount: "0.50", currency: "EUR" }),
        batchItem(c1.id, { transaction_type: "Credit", amount: "0.10", currency: "EUR" }),
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
    // Refused, and a cancel of an id never seen: neither writes a ledger entry.
    expect((await transact(a2.id, { amount: "1000.00", currency: "EUR" })).status).toBe(402);
    await ok(cancel(uniqueId("never"), a2.id));
    await transfer(a1, "TransferIn", 5000);
    await transfer(a1, "TransferOut", 1234);
    await transfer(b1, "TransferIn", 777);
    await transfer(b2, "TransferOut", 1);

    entries = await moveEntries(
      await entriesOf(players),
      [
        at("2021-03-01T00:00:00.000Z"), // the first instant of `from`
        at("2021-03-01T23:59:59.999Z"),
        at("2021-03-02T00:00:00.000Z"), // the next UTC day
        at("2021-03-02T13:45:00.000Z"),
        at("2021-03-04T23:59:59.999Z"), // the last instant of `to` (2021-03-03 has no entry)
      ],
      new Map([
        [before, at("2021-02-28T23:59:59.999Z")],
        [after, at("2021-03-05T00:00:00.000Z")],
      ]),
    );
    expect(entries.length).toBe(28);
    // Many calls: more than the default hook timeout on a busy machine.
  }, 60_000);

  it("totals each UTC day, operator, brand and currency as the ledger entries add up", async () => {
    const answer = await report(`from=${FROM}&to=${TO}`);
    expect(answer.status).toBe(200);
    const expected = expectedReport(entries, players, at(FROM), at(TO) + DAY_MS);
    expect(answer.text).toBe(expected);
    // The fixture covers what it claims: every tally somewhere, both currencies, a day skipped.
    const days: { date: string; currency: string; [tally: string]: unknown }[] = answer.body.days;
    for (const tally of TALLIES)
      expect(days.some((d) => (d[tally] as { count: number }).count > 0)).toBe(true);
    expect(new Set(days.map((d) => d.currency))).toEqual(new Set(["EUR", "JPY"]));
    expect(new Set(days.map((d) => d.date))).toEqual(
      new Set(["2021-03-01", "2021-03-02", "2021-03-04"]),
    );
  });

  it("brand_id narrows the report to that brand's rows", async () => {
    const brand = players[2]?.brandId ?? "";
    const answer = await report(`from=${FROM}&to=${TO}&brand_id=${brand}`);
    expect(answer.status).toBe(200);
    const own = players.filter((p) => p.brandId === brand);
    expect(answer.text).toBe(
      expectedReport(
        entries.filter((e) => own.some((p) => p.id === e.player_id)),
        own,
        at(FROM),
        at(TO) + DAY_MS,
      ),
    );
    expect(answer.body.days.length).toBeGreaterThan(0);
    expect((await report(`from=${FROM}&to=${TO}&brand_id=no-such-brand`)).text).toBe('{"days":[]}');
  });

  it("a one-day range is that UTC day alone", async () => {
    const answer = await report("from=2021-03-02&to=2021-03-02");
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(
      expectedReport(entries, players, at("2021-03-02"), at("2021-03-02") + DAY_MS),
    );
  });

  it("writes amounts with the currency's decimals, and a negative ggr when the players won", async () => {
    const tag = uniqueId("n");
    const eur = await player(`op_${tag}`, `br_${tag}`, "EUR", "10.00");
    const jpy = await player(`op_${tag}`, `br_${tag}`, "JPY", "1000");
    await play(eur, "Debit", "2.50");
    await play(eur, "Credit", "7.00");
    await ok(cancel(await play(eur, "Debit", "0.05"), eur.id));
    await play(jpy, "Debit", "1000");
    await play(jpy, "None", "0");
    // One day of 2020 for this test alone, read back with the brand filter.
    await moveEntries(await entriesOf([eur, jpy]), [at("2020-07-15T10:00:00Z")]);
    const answer = await report(`from=2020-07-15&to=2020-07-15&brand_id=br_${tag}`);
    const zero = (amount: string) => `{"count":0,"amount":${amount}}`;
    expect(answer.text).toBe(
      `{"days":[` +
        `{"date":"2020-07-15","operator_id":"op_${tag}","brand_id":"br_${tag}","currency":"EUR",` +
        `"debits":{"count":2,"amount":2.55},"credits":{"count":1,"amount":7.00},` +
        `"cancelled_debits":{"count":1,"amount":0.05},"cancelled_credits":${zero("0.00")},` +
        `"transfers_in":${zero("0.00")},"transfers_out":${zero("0.00")},"ggr":-4.50},` +
        `{"date":"2020-07-15","operator_id":"op_${tag}","brand_id":"br_${tag}","currency":"JPY",` +
        `"debits":{"count":1,"amount":1000},"credits":${zero("0")},` +
        `"cancelled_debits":${zero("0")},"cancelled_credits":${zero("0")},` +
        `"transfers_in":${zero("0")},"transfers_out":${zero("0")},"ggr":1000}]}`,
    );
  });

  it("answers 500 rather than an inexact figure for a total past 2^53 minor units", async () => {
    const tag = uniqueId("big");
    const rich: Player[] = [];
    for (let i = 0; i < 10; i++) rich.push(await player(`op_${tag}`, `br_${tag}`, "JPY", "0"));
    for (const p of rich) await transfer(p, "TransferIn", MAX_MINOR_UNITS);
    const moved = await moveEntries(await entriesOf(rich), [at("1995-06-01T12:00:00Z")]);
    const query = `from=1995-06-01&to=1995-06-02&brand_id=br_${tag}`;
    // 10 × 10^15 yen in one day: more than a JavaScript number holds exactly.
    expectErrorShape(await report(query), 500, "INTERNAL_ERROR");
    // One of them a day later: 9 × 10^15 is still below 2^53, and written exactly.
    await moveEntries(moved.slice(0, 1), [at("1995-06-02T00:00:00Z")]);
    const answer = await report(query);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('"transfers_in":{"count":9,"amount":9000000000000000}');
    expect(answer.text).toContain('"transfers_in":{"count":1,"amount":1000000000000000}');
  });

  it("an empty range answers no rows", async () => {
    const answer = await report("from=1999-01-01&to=1999-03-31");
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"days":[]}');
  });

  it("refuses dates that are not real YYYY-MM-DD days, to before from, and more than 92 days", async () => {
    for (const query of [
      "from=2026-02-30&to=2026-03-01",
      "from=2025-02-29&to=2025-03-01",
      "from=2026-2-1&to=2026-03-01",
      "from=20260201&to=20260301",
      "from=2026-02-01T00:00:00Z&to=2026-03-01",
      "from=2026-02-01&to=",
      "from=2026-02-01",
      "to=2026-02-01",
      "",
      "from=2026-03-02&to=2026-03-01",
      "from=2026-01-01&to=2026-04-03",
      "from=2026-01-01&from=2026-01-02&to=2026-01-05",
      "from=2026-01-01&to=2026-01-05&brand_id=",
    ]) {
      expectErrorShape(await report(query), 400, "INVALID_REQUEST");
    }
    // 92 days, from and to included, and a leap day are fine.
    expect((await report("from=2026-01-01&to=2026-04-02")).status).toBe(200);
    expect((await report("from=2024-02-29&to=2024-02-29")).status).toBe(200);
  });

  it("ignores query parameters it does not know, as the other admin queries do", async () => {
    const answer = await report(`from=${FROM}&to=${TO}&currency=JPY`);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe((await report(`from=${FROM}&to=${TO}`)).text);
  });

  it("needs the admin token", async () => {
    expectErrorShape(
      await admin("GET", `/admin/reports/daily?from=${FROM}&to=${TO}`, undefined, ""),
      401,
      "UNAUTHORIZED",
    );
  });

  it("is summed by D1 over the time index, not read entry by entry", async () => {
    const plan = await ledgerDb(env.DB).all<{ detail: string }>(
      sql`EXPLAIN QUERY PLAN ${dailyTotalsQuery(at(FROM), at(TO), "brand")}`,
    );
    const steps = plan.map((step) => step.detail);
    expect(steps.some((s) => s.includes("USING INDEX ledger_entries_created_idx"))).toBe(true);
    expect(steps.some((s) => /^SCAN l\b/.test(s))).toBe(false);
  });
});
