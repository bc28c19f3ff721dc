import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runArchive } from "../src/jobs/archive";
import { MS_PER_DAY } from "../src/ledger/report";
import { playerWallet } from "../src/wallet/player-wallet";
import { archiveAfter, clockAt, expectReconciled, rowsOfDay, same } from "./archive-helpers";
import {
  admin,
  type Answer,
  cancel,
  newPlayer,
  storedBalanceMinor,
  type TestPlayer,
  uniqueId,
  wallet,
} from "./helpers";

// A cancel by batch_id alone of a batch whose id rows the archive moved out of D1 (docs/archive.md):
// D1 keeps each archived item's batch_id and applying entry's id in archived_id_owners, so the
// cancel finds the batch's archived items with its live ones, in the order it took them before
// archival, and sends them to their owners' objects. Each test compares the archived batch's
// answers with those of the same batch never archived (a twin, played on a live day).

const KEYS = JSON.parse(env.WALLET_HMAC_SECRETS) as Record<string, string>;

interface CallOptions {
  vars?: Partial<Cloudflare.Env>;
  secret?: string;
}

const postBatch = (batchId: string, transactions: unknown[], options: CallOptions = {}) =>
  wallet("POST", "/wallet/transaction/batch", { batch_id: batchId, transactions }, options);
const cancelByBatchId = (batchId: string, options: CallOptions = {}) =>
  wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId }, options);

function item(playerId: string, label: string, type: string, amount: string) {
  // The label leads the id, so that ids of items never applied (ordered by id) sort alike in twins.
  return {
    player_id: playerId,
    transaction_id: uniqueId(label),
    transaction_type: type,
    provider_id: "thrillpots",
    amount,
    currency: "EUR",
  };
}

interface PlayedBatch {
  batchId: string;
  a: TestPlayer;
  b: TestPlayer;
  /** Each item's transaction id → its label, the same in every twin. */
  labels: Map<string, string>;
}

/**
 * One batch grown by two requests, the first at `firstMs`, the second at `secondMs`: a chain only
 * last-first undoing never overdraws (player a, at 0, spends the batch's Credit in its Debit), an
 * item refused, an item cancelled before the batch is, and a tombstone of the batch (a cancel by
 * items of an id never seen). Player a ends at 2.00, b at 8.00.
 */
async function playBatch(firstMs: number, secondMs: number): Promise<PlayedBatch> {
  vi.setSystemTime(firstMs);
  const a = await newPlayer({ balance: "0" });
  const b = await newPlayer({ balance: "5.00" });
  const batchId = uniqueId("batch");
  const labels = new Map<string, string>();
  const labelled = (playerId: string, label: string, type: string, amount: string) => {
    const made = item(playerId, label, type, amount);
    labels.set(made.transaction_id, label);
    return made;
  };
  // One player per request, so that the items' entries (the order of the undoing) are in the
  // order of the requests: two players' objects commit in parallel.
  const aCredit = labelled(a.playerId, "a-credit", "Credit", "10.00");
  const bDebit = labelled(b.playerId, "b-debit", "Debit", "2.00");
  const bRefused = labelled(b.playerId, "b-refused", "Debit", "500.00");
  expect((await postBatch(batchId, [aCredit])).status).toBe(200);
  expect((await postBatch(batchId, [bDebit, bRefused])).status).toBe(200);
  vi.setSystemTime(firstMs + 60_000);
  expect((await cancel(bDebit.transaction_id, b.playerId)).status).toBe(200);
  const tombstone = uniqueId("a-tombstone");
  labels.set(tombstone, "a-tombstone");
  const tombstoned = await wallet("DELETE", "/wallet/transaction/batch", {
    batch_id: batchId,
    transactions: [{ transaction_id: tombstone, player_id: a.playerId }],
  });
  expect(tombstoned.status).toBe(200);

  vi.setSystemTime(secondMs);
  const aDebit = labelled(a.playerId, "a-debit", "Debit", "10.00");
  const aCredit2 = labelled(a.playerId, "a-credit2", "Credit", "2.00");
  expect((await postBatch(batchId, [aDebit, aCredit2])).status).toBe(200);
  const bCredit = labelled(b.playerId, "b-credit", "Credit", "3.00");
  expect((await postBatch(batchId, [bCredit])).status).toBe(200);
  expect(await storedBalanceMinor(a.playerId)).toBe(200);
  expect(await storedBalanceMinor(b.playerId)).toBe(800);
  return { batchId, a, b, labels };
}

/** An answer with each item's id replaced by its label, so that twins' answers compare. */
function labelled(answer: Answer, played: PlayedBatch) {
  const { batch_id: batchId, results } = answer.body ?? {};
  expect(batchId).toBe(played.batchId);
  return {
    status: answer.status,
    results: (results ?? []).map((result: { transaction_id: string }) => ({
      ...result,
      transaction_id: played.labels.get(result.transaction_id) ?? result.transaction_id,
    })),
  };
}

/** What a cancel by batch_id of playBatch's batch answers, live or archived. */
const UNDONE = {
  status: 200,
  results: [
    { transaction_id: "b-credit", status: "OK", balance: "5.00" },
    { transaction_id: "a-credit2", status: "OK", balance: "0.00" },
    { transaction_id: "a-debit", status: "OK", balance: "10.00" },
    { transaction_id: "b-debit", status: "OK", balance: "5.00" },
    { transaction_id: "a-credit", status: "OK", balance: "0.00" },
    { transaction_id: "a-tombstone", status: "OK", balance: "0.00" },
    { transaction_id: "b-refused", status: "OK", balance: "5.00" },
  ],
};

/** Its repeat: every item answered as done, with the balance after the whole batch was undone. */
const UNDONE_AGAIN = {
  status: 200,
  results: UNDONE.results.map((result) => ({
    ...result,
    balance: result.transaction_id.startsWith("a-") ? "0.00" : "5.00",
  })),
};

/**
 * Each id's ledger entries across the archive's boundary (the export reads the archived days from
 * R2, the rest from D1), as "effect effect…" in entry order: a reversal written twice shows.
 */
async function effectsPerLabel(played: PlayedBatch): Promise<Record<string, string>> {
  const to = new Date(Date.now() + MS_PER_DAY).toISOString();
  const exported = await admin(
    "GET",
    `/admin/ledger/export?from=2024-12-01T00:00:00.000Z&to=${to}`,
  );
  expect(exported.status).toBe(200);
  const effects: Record<string, string[]> = {};
  for (const line of exported.text.split("\n").filter(Boolean)) {
    const entry = JSON.parse(line) as { transaction_id: string; effect: string };
    const label = played.labels.get(entry.transaction_id);
    if (label) effects[label] = [...(effects[label] ?? []), entry.effect];
  }
  return Object.fromEntries(
    Object.entries(effects).map(([label, list]) => [label, list.join(" ")]),
  );
}

/** Every applied item of playBatch's batch once applied and once reversed; the others never. */
const EACH_REVERSED_ONCE = {
  "a-credit": "apply reverse",
  "a-credit2": "apply reverse",
  "a-debit": "apply reverse",
  "b-credit": "apply reverse",
  "b-debit": "apply reverse",
};

async function expectUndone(played: PlayedBatch) {
  expect(await storedBalanceMinor(played.a.playerId)).toBe(0);
  expect(await storedBalanceMinor(played.b.playerId)).toBe(500);
  expect(await effectsPerLabel(played)).toEqual(EACH_REVERSED_ONCE);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("a cancel by batch_id alone of an archived batch", () => {
  it("undoes a batch wholly archived as it would have before archival, and a repeat answers the same and moves nothing", async () => {
    const dayMs = clockAt("2025-01-10T10:00:00Z");
    const archived = await playBatch(dayMs, dayMs + 3_600_000);
    expect((await archiveAfter(dayMs)).error).toBeNull();
    expect(await rowsOfDay(dayMs)).toEqual({ entries: 0, ids: 0, cancellations: 0 });

    // The twin, never archived: played on a day the run above did not reach.
    clockAt("2025-02-19T10:00:00Z");
    const live = await playBatch(Date.now(), Date.now() + 3_600_000);
    vi.useRealTimers();

    // From objects that kept nothing in memory: the archived items are known from their storage.
    for (const player of [archived.a, archived.b])
      await evictDurableObject(playerWallet(env, player.playerId));
    const liveAnswer = labelled(await cancelByBatchId(live.batchId), live);
    expect(liveAnswer).toEqual(UNDONE);
    const archivedAnswer = labelled(await cancelByBatchId(archived.batchId), archived);
    expect(archivedAnswer).toEqual(liveAnswer);
    await expectUndone(archived);
    await expectUndone(live);
    await expectReconciled();

    // A repeat, from memory and after a restart: the same answers, nothing moved.
    const liveAgain = labelled(await cancelByBatchId(live.batchId), live);
    expect(liveAgain).toEqual(UNDONE_AGAIN);
    expect(labelled(await cancelByBatchId(archived.batchId), archived)).toEqual(liveAgain);
    for (const player of [archived.a, archived.b])
      await evictDurableObject(playerWallet(env, player.playerId));
    expect(labelled(await cancelByBatchId(archived.batchId), archived)).toEqual(liveAgain);
    await expectUndone(archived);
    await expectReconciled();
  });

  it("undoes a batch split between an archived day and a live day, the live items first", async () => {
    // The first request late on one day, the second early on the next: the run below archives the
    // first day only (it ends more than 35 days before the run; the second day does not).
    const firstMs = clockAt("2025-03-01T22:00:00Z");
    const secondMs = Date.parse("2025-03-02T02:00:00Z");
    const split = await playBatch(firstMs, secondMs);
    vi.useRealTimers();
    const run = await runArchive(env, Date.parse("2025-04-06T12:00:00Z"), "manual");
    expect(run.error).toBeNull();
    expect(await rowsOfDay(firstMs)).toEqual({ entries: 0, ids: 0, cancellations: 0 });
    expect((await rowsOfDay(secondMs)).entries).toBe(3);

    clockAt("2025-03-02T05:00:00Z");
    const live = await playBatch(Date.now(), Date.now() + 3_600_000);
    vi.useRealTimers();

    const liveAnswer = labelled(await cancelByBatchId(live.batchId), live);
    expect(liveAnswer).toEqual(UNDONE);
    expect(labelled(await cancelByBatchId(split.batchId), split)).toEqual(liveAnswer);
    await expectUndone(split);
    await expectUndone(live);
    const liveAgain = labelled(await cancelByBatchId(live.batchId), live);
    expect(labelled(await cancelByBatchId(split.batchId), split)).toEqual(liveAgain);
    await expectUndone(split);
    await expectReconciled();
  });

  it("reaches only the players of the signing key's brand, as before archival", async () => {
    const dayMs = clockAt("2025-05-01T10:00:00Z");
    const pa = await newPlayer({ brand_id: "brand-a", balance: "10.00" });
    const pb = await newPlayer({ brand_id: "brand-b", balance: "10.00" });
    // One batch_id, grown by each brand with its own key.
    const batchId = uniqueId("batch");
    const itemA = item(pa.playerId, "pa", "Debit", "1.00");
    const itemB = item(pb.playerId, "pb", "Debit", "2.00");
    const keyA = { secret: KEYS["brand-a"] };
    const keyB = { secret: KEYS["brand-b"] };
    expect((await postBatch(batchId, [itemA], keyA)).status).toBe(200);
    expect((await postBatch(batchId, [itemB], keyB)).status).toBe(200);
    expect((await archiveAfter(dayMs)).error).toBeNull();

    // The default key reaches neither brand: nothing of the batch is its to cancel.
    const byDefault = await cancelByBatchId(batchId);
    expect(same(byDefault)).toEqual({ status: 200, body: { batch_id: batchId, results: [] } });
    const byA = await cancelByBatchId(batchId, keyA);
    expect(same(byA)).toEqual({
      status: 200,
      body: {
        batch_id: batchId,
        results: [{ transaction_id: itemA.transaction_id, status: "OK", balance: "10.00" }],
      },
    });
    expect(await storedBalanceMinor(pa.playerId)).toBe(1000);
    expect(await storedBalanceMinor(pb.playerId)).toBe(800);
    const byB = await cancelByBatchId(batchId, keyB);
    expect(byB.body.results).toEqual([
      { transaction_id: itemB.transaction_id, status: "OK", balance: "10.00" },
    ]);
    expect(await storedBalanceMinor(pb.playerId)).toBe(1000);
    await expectReconciled();
  });

  it("out of budget and with an answer lost between pages, answers 503 until every archived item is reversed, none twice", async () => {
    const dayMs = clockAt("2025-07-01T10:00:00Z");
    const { playerId } = await newPlayer({ balance: "0" });
    const batchId = uniqueId("batch");
    // A Credit spent by the Debits after it: only last-first undoing never overdraws.
    const items = [
      item(playerId, "credit", "Credit", "4.00"),
      ...Array.from({ length: 4 }, () => item(playerId, "debit", "Debit", "1.00")),
    ];
    for (const [k, one] of items.entries()) {
      vi.setSystemTime(dayMs + k * 1000);
      expect((await postBatch(batchId, [one])).status).toBe(200);
    }
    expect((await archiveAfter(dayMs)).error).toBeNull();
    await evictDurableObject(playerWallet(env, playerId));

    // Pages of one item, and a budget of 0 ms: each call undoes one page, then stops (503). The
    // first page's reversal commits in D1 and its answer is lost before the object records it.
    const vars = { MAX_BATCH_SIZE: "1", BATCH_CANCEL_BUDGET_MS: "0" };
    const armed = await admin("POST", "/admin/faults", {
      player_id: playerId,
      lose_next_answers: 1,
    });
    expect(armed.status).toBe(200);
    const statuses: number[] = [];
    let last: Answer | undefined;
    for (let call = 1; call <= 8 && last?.status !== 200; call++) {
      last = await cancelByBatchId(batchId, { vars });
      statuses.push(last.status);
      if (last.status !== 200) expect(last.body.code).toBe("UNAVAILABLE");
    }
    expect(statuses).toEqual([503, 503, 503, 503, 503, 200]);
    const ids = items.map((one) => one.transaction_id);
    expect(last?.body.results).toEqual(
      [...ids].reverse().map((id, k) => ({
        transaction_id: id,
        status: "OK",
        balance: k === 4 ? "0.00" : "4.00",
      })),
    );
    expect(await storedBalanceMinor(playerId)).toBe(0);
    const reversals = await env.DB.prepare(
      `SELECT transaction_id AS id, COUNT(*) AS n FROM ledger_entries WHERE effect = 'reverse' AND transaction_id IN (${ids.map(() => "?").join(",")}) GROUP BY transaction_id`,
    )
      .bind(...ids)
      .all<{ id: string; n: number }>();
    expect(reversals.results.map((row) => row.n)).toEqual([1, 1, 1, 1, 1]);
    await expectReconciled();
  });
});
