import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { MS_PER_DAY } from "../src/ledger/report";
import { runArchive } from "../src/jobs/archive";
import { runBank, type Send } from "./bank/run";
import { admin, wallet } from "./helpers";

// The bank (test/bank/): seeded random operations over 50 players, each request sent up to 3
// times (some copies at once), with faults armed in the players' objects, checked answer by
// answer against an independent model, then balance by balance, ledger by ledger, and by
// reconciliation. A failure prints its seed: runBank({ seed, ... }) replays it exactly, and
// `npm run chaos -- --seed S --ops N` replays it against wrangler dev.
const send: Send = (method, path, body) =>
  path.startsWith("/admin/") ? admin(method, path, body) : wallet(method, path, body);

// What each seeded run must have met at least once (model outcomes, see BankReport.outcomes).
const OPERATOR_OUTCOMES = [
  "transfer ok",
  "transfer INSUFFICIENT_FUNDS",
  "transfer PLAYER_CLOSED",
  "transfer DUPLICATE_TRANSACTION",
  "status ok",
  "status BALANCE_NOT_ZERO",
  "transaction PLAYER_SUSPENDED",
  "transaction DUPLICATE_TRANSACTION",
  "cancel DUPLICATE_TRANSACTION",
];

describe("the bank: random operations with retries and faults agree with the model exactly", () => {
  for (const seed of [1, 20261125]) {
    it(`seed ${seed}: every answer, balance and ledger entry as the model says; no double apply, no overdraft`, async () => {
      const report = await runBank({ seed, operations: 300, send, faultRate: 0.15, backoffMs: 1 });
      console.log(
        `bank seed ${seed}: ${report.operations} operations, ${report.requests} requests, ${report.faultsArmed} faults armed, ${report.durationMs} ms`,
      );
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({
        disagreements: 0,
        doubleApplies: 0,
        negativeBalances: 0,
        reconciliationProblems: 0,
      });
      // The run did what it claims: faults were armed and every op was sent.
      expect(report.faultsArmed).toBeGreaterThan(0);
      expect(report.requests).toBeGreaterThanOrEqual(report.operations);
      // And the operator's side (issue 13) came up in it, refusals included.
      expect(Object.keys(report.outcomes)).toEqual(expect.arrayContaining(OPERATOR_OUTCOMES));
    });
  }

  it("the bank notices money the model did not send: a transaction and a transfer applied again under other ids", async () => {
    // A wallet that double-applies looks like this from outside; the check must say so.
    const twinned = new Set<string>();
    const doubling: Send = async (method, path, body) => {
      const answer = await send(method, path, body);
      const kind = path.endsWith("/transfers")
        ? "transfer"
        : path === "/wallet/transaction"
          ? "transaction"
          : null;
      const idField = kind === "transfer" ? "transfer_id" : "transaction_id";
      if (
        kind !== null &&
        !twinned.has(kind) &&
        answer.status === 200 &&
        typeof body === "object" &&
        body !== null &&
        idField in body
      ) {
        twinned.add(kind);
        const id = String(Reflect.get(body, idField));
        // Only a twin the wallet applied moves money: a refused one (a transfer out of a balance
        // the original just emptied, a closed player) is no double apply, so a later op is twinned.
        const twin = await send(method, path, { ...body, [idField]: `${id}-twin` });
        if (twin.status !== 200) twinned.delete(kind);
      }
      return answer;
    };
    const report = await runBank({ seed: 7, operations: 60, send: doubling, faultRate: 0 });
    expect([...twinned].sort()).toEqual(["transaction", "transfer"]);
    expect(report.disagreements).toBeGreaterThan(0);
    const problems = report.problems.join("\n");
    expect(problems).toMatch(/-t[0-9]+-twin/);
    expect(problems).toMatch(/-x[0-9]+-twin/);
  });
});

describe("the bank across the archive: the job runs between rounds, with time moved forward", () => {
  it("every answer, balance and ledger entry as the model says, with earlier rounds archived", async () => {
    // Each round writes on a day 40 days after the one before; before each round (and after the
    // last) the job runs as of that round's day, so every earlier round is archived by then.
    const baseMs = Date.UTC(2024, 0, 15, 10);
    const archived: number[] = [];
    try {
      vi.useFakeTimers({ toFake: ["Date"] });
      const report = await runBank({
        seed: 5,
        operations: 240,
        send,
        faultRate: 0.1,
        backoffMs: 1,
        archival: {
          rounds: 3,
          before: async (round) => {
            const nowMs = baseMs + round * 40 * MS_PER_DAY;
            vi.setSystemTime(nowMs);
            if (round === 0) return;
            const run = await runArchive(env, nowMs, "cron");
            expect(run.error).toBeNull();
            archived.push(run.daysArchived);
          },
        },
      });
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({
        disagreements: 0,
        doubleApplies: 0,
        negativeBalances: 0,
        reconciliationProblems: 0,
      });
      // Each run archived the round before it: the checks crossed the boundary.
      expect(archived).toEqual([1, 1, 1]);
    } finally {
      vi.useRealTimers();
    }
    const withArchive = await admin("GET", "/admin/reconcile?archive=true");
    expect(withArchive.body.ok).toBe(true);
  });
});
