import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { runArchive } from "../src/jobs/archive";
import { ledgerDb } from "../src/ledger/db";
import { reconcile } from "../src/ledger/reconcile";
import { MS_PER_DAY } from "../src/ledger/report";
import { admin, type Answer } from "./helpers";

// The archive tests' clock and checks (test/archive*.test.ts): each test writes its rows on a day
// of its own (a fake clock, which the player objects share), then runs the job as of a time past
// the retention window (35 days by default). A run archives every day before its window, so a
// file's tests take their days in order.

/** Every following request is written at this time (UTC). */
export function clockAt(iso: string): number {
  vi.useFakeTimers({ toFake: ["Date"] });
  const ms = Date.parse(iso);
  vi.setSystemTime(ms);
  return ms;
}

/** The job as of `days` after `ms`, on the real clock. */
export function archiveAfter(ms: number, days = 40, options = {}) {
  vi.useRealTimers();
  return runArchive(env, ms + days * MS_PER_DAY, "manual", options);
}

/** The rows of a player D1 still holds from the UTC day of `dayMs`, per table. */
export async function rowsOfDay(dayMs: number) {
  const from = Math.floor(dayMs / MS_PER_DAY) * MS_PER_DAY;
  const count = async (table: string, extra = "") => {
    const row = await env.DB.prepare(
      `SELECT COUNT(*) AS n FROM ${table} WHERE created_at_ms >= ? AND created_at_ms < ? ${extra}`,
    )
      .bind(from, from + MS_PER_DAY)
      .first<{ n: number }>();
    return row?.n ?? 0;
  };
  return {
    entries: await count("ledger_entries"),
    ids: await count("transactions", "AND player_id IS NOT NULL"),
    cancellations: await count("cancellations", "AND player_id IS NOT NULL"),
  };
}

/** Invariant 5 with the archive: D1's check, and every archived part re-read from R2. */
export async function expectReconciled() {
  const report = await reconcile(ledgerDb(env.DB));
  expect(report.balanceMismatches).toEqual([]);
  expect(report.transactionProblems).toEqual([]);
  const withArchive = await admin("GET", "/admin/reconcile?archive=true");
  expect(withArchive.body.archive.problems).toEqual([]);
  expect(withArchive.body.ok).toBe(true);
}

/** An answer's status and body, for comparing one call's answer with another's. */
export const same = (a: Answer) => ({ status: a.status, body: a.body });
