import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { HOURLY_CRON, NIGHTLY_CRON, NIGHTLY_JOBS, runNightly } from "../src/jobs/nightly";
import worker from "../src/index";
import { admin, expectErrorShape, newPlayer, transact, uniqueId } from "./helpers";

// The nightly Cron Trigger (wrangler.toml `15 0 * * *`) run for real: the Worker's scheduled()
// handler with a scheduled controller and an execution context, waited on as the runtime waits.

const CRON = "15 0 * * *";

async function fireCron(scheduledTimeMs = Date.now(), cron = CRON): Promise<void> {
  const controller = createScheduledController({ scheduledTime: scheduledTimeMs, cron });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env, ctx);
  await waitOnExecutionContext(ctx);
}

let errorSpy: MockInstance<typeof console.error>;
beforeEach(() => {
  errorSpy = vi.spyOn(console, "error");
});
afterEach(() => {
  errorSpy.mockRestore();
});

/** The error-level lines of one event written since the spy was set, parsed. */
function errorLines(event: string): Record<string, unknown>[] {
  return errorSpy.mock.calls
    .map((call) => String(call[0]))
    .filter((line) => line.startsWith(`{"event":"${event}"`))
    .map((line) => JSON.parse(line));
}

/**
 * Breaks one balance behind the wallet's back (1 minor unit too many) and marks the debit
 * cancelled without its reversing entry: the test's fault, never reachable through the API.
 * Answers the repair, which the suite's per-file reconciliation (test/setup.ts) needs.
 */
async function breakLedger(playerId: string, transactionId: string): Promise<() => Promise<void>> {
  const balance = env.DB.prepare(
    "UPDATE players SET balance_minor = balance_minor + ? WHERE id = ?",
  );
  const status = env.DB.prepare("UPDATE transactions SET status = ? WHERE transaction_id = ?");
  await env.DB.batch([balance.bind(1, playerId), status.bind("cancelled", transactionId)]);
  return async () => {
    await env.DB.batch([balance.bind(-1, playerId), status.bind("applied", transactionId)]);
  };
}

describe("nightly reconciliation (Cron Trigger), recorded, with an alert line", () => {
  it("GET /admin/reconcile/last answers 404 NOT_FOUND before any run, and needs the admin token", async () => {
    const none = await admin("GET", "/admin/reconcile/last");
    expectErrorShape(none, 404, "NOT_FOUND");
    // Not the catch-all's "no such route": the route exists, and says no run is recorded.
    expect(none.body.message).toBe("no reconciliation run is recorded yet");
    expect((await admin("GET", "/admin/reconcile/last", undefined, "")).status).toBe(401);
    expect((await admin("POST", "/admin/reconcile/run", undefined, "")).status).toBe(401);
  });

  it("a clean nightly run is recorded with 0 disagreements, its time, counts and duration, and logs no alert", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    await transact(playerId, { amount: "3.00" });
    const beforeMs = Date.now();
    await fireCron();
    const last = await admin("GET", "/admin/reconcile/last");
    expect(last.status).toBe(200);
    expect(last.body).toMatchObject({
      trigger: "cron",
      ok: true,
      disagreements: 0,
      balance_mismatches: [],
      transaction_problems: [],
    });
    expect(last.body.players_checked).toBeGreaterThanOrEqual(1);
    expect(last.body.transactions_checked).toBeGreaterThanOrEqual(1);
    expect(last.body.duration_ms).toBeGreaterThanOrEqual(0);
    expect(last.body.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(last.body.started_at)).toBeGreaterThanOrEqual(beforeMs);
    expect(errorLines("reconcile_failed")).toEqual([]);
  });

  it("a broken balance: the nightly run writes ONE error line naming the player, the amounts and the transaction id, and records the disagreements", async () => {
    const { playerId } = await newPlayer({ balance: "10.00" });
    const transactionId = uniqueId("tx");
    await transact(playerId, { transaction_id: transactionId, amount: "3.00" });
    const repair = await breakLedger(playerId, transactionId);
    try {
      errorSpy.mockClear();
      await fireCron();

      const mismatch = { player_id: playerId, balance_minor: 701, expected_minor: 700 };
      const problem = {
        transaction_id: transactionId,
        status: "cancelled",
        applying_entries: 1,
        reversing_entries: 0,
      };
      // The alert: one line at error level, and no other error line.
      expect(errorSpy).toHaveBeenCalledTimes(1);
      expect(errorLines("reconcile_failed")).toEqual([
        {
          event: "reconcile_failed",
          trigger: "cron",
          started_at: expect.any(String),
          players_checked: expect.any(Number),
          transactions_checked: expect.any(Number),
          disagreements: 2,
          balance_mismatches: [mismatch],
          transaction_problems: [problem],
        },
      ]);

      const last = await admin("GET", "/admin/reconcile/last");
      expect(last.body).toMatchObject({
        trigger: "cron",
        ok: false,
        disagreements: 2,
        balance_mismatches: [mismatch],
        transaction_problems: [problem],
      });
      expect(last.body.started_at).toBe(errorLines("reconcile_failed")[0]?.started_at);
    } finally {
      await repair();
    }

    // Repaired, the next night records an exact ledger again.
    await fireCron();
    expect((await admin("GET", "/admin/reconcile/last")).body).toMatchObject({
      trigger: "cron",
      ok: true,
      disagreements: 0,
    });
  });

  it("a job that throws is logged at error level, and the jobs after it still run", async () => {
    const before = (await admin("GET", "/admin/reconcile/last")).body;
    const scheduledTimeMs = Date.UTC(2026, 11, 5, 0, 15);
    const failing = {
      name: "archive",
      run: async () => {
        throw new Error("D1 unavailable");
      },
    };
    const failed = await runNightly(env, scheduledTimeMs, [failing, ...NIGHTLY_JOBS]);
    expect(failed).toEqual(["archive"]);
    expect(errorLines("nightly_job_failed")).toEqual([
      {
        event: "nightly_job_failed",
        job: "archive",
        scheduled_at: "2026-12-05T00:15:00.000Z",
        error: "Error: D1 unavailable",
      },
    ]);
    const last = (await admin("GET", "/admin/reconcile/last")).body;
    expect(last.id).toBeGreaterThan(before.id);
    expect(last).toMatchObject({ trigger: "cron", ok: true });
  });

  it("POST /admin/reconcile/run records a manual run and answers it; GET /admin/reconcile records nothing", async () => {
    const run = await admin("POST", "/admin/reconcile/run");
    expect(run.status).toBe(201);
    expect(run.body).toMatchObject({ trigger: "manual", ok: true, disagreements: 0 });
    expect((await admin("GET", "/admin/reconcile/last")).body).toEqual(run.body);

    expect((await admin("GET", "/admin/reconcile")).body.ok).toBe(true);
    expect((await admin("GET", "/admin/reconcile/last")).body.id).toBe(run.body.id);
  });
});

describe("each Cron Trigger runs its own jobs (src/jobs/nightly.ts)", () => {
  /** Rows of the two jobs' run tables: each run that did something adds one. */
  async function runCounts(): Promise<{ archive: number; reconcile: number }> {
    const count = async (table: string) =>
      (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0;
    return { archive: await count("archive_runs"), reconcile: await count("reconcile_runs") };
  }

  it("the table's crons are wrangler.toml's", () => {
    expect(CRON).toBe(NIGHTLY_CRON);
    expect(HOURLY_CRON).toBe("45 * * * *");
  });

  it("the nightly cron runs the archive, then reconciliation: one run of each recorded", async () => {
    const before = await runCounts();
    await fireCron(Date.now(), NIGHTLY_CRON);
    expect(await runCounts()).toEqual({
      archive: before.archive + 1,
      reconcile: before.reconcile + 1,
    });
  });

  it("the hourly cron runs no reconciliation, and with nothing to archive records nothing", async () => {
    const before = await runCounts();
    await fireCron(Date.now(), HOURLY_CRON);
    expect(await runCounts()).toEqual(before);
    expect(errorSpy).not.toHaveBeenCalled();
  });

  it("an unknown cron runs nothing and logs one error line naming it", async () => {
    const before = await runCounts();
    const scheduledTimeMs = Date.UTC(2026, 11, 5, 3, 0);
    await fireCron(scheduledTimeMs, "0 3 * * *");
    expect(await runCounts()).toEqual(before);
    expect(errorSpy).toHaveBeenCalledTimes(1);
    expect(errorLines("unknown_cron")).toEqual([
      { event: "unknown_cron", cron: "0 3 * * *", scheduled_at: "2026-12-05T03:00:00.000Z" },
    ]);
  });
});
