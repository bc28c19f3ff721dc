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
// The bank's players are of brand "bank", which WALLET_HMAC_SECRETS does not list: the default key
// signs for them, and brand-a's key is another brand's.
const OTHER_BRAND_KEY = (JSON.parse(env.WALLET_HMAC_SECRETS) as Record<string, string>)["brand-a"];
const send: Send = (method, path, body, options) =>
  path.startsWith("/admin/")
    ? admin(method, path, body)
    : wallet(method, path, body, options?.otherBrand ? { secret: OTHER_BRAND_KEY } : {});

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
  // Status changes raced against the player's calls (issue 25): after a suspend is answered, no
  // session; after an activation, one; a win is paid either way.
  "race suspend status ok",
  "race suspend credit ok",
  "race suspend authenticate-after-status PLAYER_SUSPENDED",
  "race activation authenticate-after-status ok",
];

describe("the bank: random operations with retries and faults agree with the model exactly", () => {
  for (const seed of [1, 20261125]) {
    it(`seed ${seed}: every answer, balance and ledger entry as the model says; no double apply, no overdraft`, async () => {
      const report = await runBank({
        seed,
        operations: 300,
        send,
        faultRate: 0.15,
        backoffMs: 1,
        otherBrandShare: 0.1,
      });
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
      // Some ops went first signed with another brand's key, and changed nothing.
      expect(report.otherBrandRequests).toBeGreaterThan(20);
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
        // A transfer is twinned inward: an outward twin may be refused for want of funds. Only a
        // twin the wallet applied moves money for the check to notice, so a refused one (a closed
        // player) frees the kind for a later op.
        const direction = kind === "transfer" ? { direction: "in" } : {};
        const twin = await send(method, path, { ...body, ...direction, [idField]: `${id}-twin` });
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

  // Wallets that break the rules of a race look like these from outside; the race checks must
  // say so. Each runs alone, so that its problems are not hidden behind the other's.
  it("the bank notices a session handed out to a suspended player", async () => {
    // Every 403 of authenticate turned into a session, with the player's balance.
    let sessions = 0;
    const lax: Send = async (method, path, body) => {
      const answer = await send(method, path, body);
      if (path !== "/wallet/authenticate" || answer.status !== 403) return answer;
      sessions += 1;
      const token = String(Reflect.get(Object(body), "player_token"));
      const owner = await env.DB.prepare("SELECT player_id FROM sessions WHERE token = ?")
        .bind(token)
        .first<{ player_id: string }>();
      const balance = await send("GET", `/wallet/balance?player_id=${owner?.player_id ?? ""}`);
      return { status: 200, text: balance.text };
    };
    const report = await runBank({ seed: 1, operations: 60, send: lax, faultRate: 0 });
    expect(sessions).toBeGreaterThan(0);
    expect(report.problems.join("\n")).toMatch(
      /race \(suspended [^)]*\): an authenticate started after the status change was answered got "200 /,
    );
  });

  it("the bank notices a win refused in a race with a suspend", async () => {
    // A Credit of a race with a suspend answered 403, and not applied.
    let refused = 0;
    const lax = duringSuspendRaces("Credit", async () => {
      refused += 1;
      return { status: 403, text: '{"code":"PLAYER_SUSPENDED","message":"refused by the test"}' };
    });
    const report = await runBank({ seed: 1, operations: 60, send: lax, faultRate: 0 });
    expect(refused).toBeGreaterThan(0);
    expect(report.problems.join("\n")).toMatch(/race \(suspended [^)]*\): the win was refused/);
  });

  it("the bank notices a Debit applied after a suspend was answered", async () => {
    // The Debit of a race with a suspend waits for the suspend's answer, then is applied all the
    // same (the player made active for it, and suspended again): every final balance and status
    // is as some order would leave them, only the answers tell.
    let late = 0;
    const lax = duringSuspendRaces("Debit", async (method, path, body) => {
      late += 1;
      const player = `/admin/players/${encodeURIComponent(String(Reflect.get(Object(body), "player_id")))}`;
      await send("PATCH", player, { status: "active" });
      const answer = await send(method, path, body);
      await send("PATCH", player, { status: "suspended" });
      return answer;
    });
    const report = await runBank({ seed: 1, operations: 60, send: lax, faultRate: 0 });
    expect(late).toBeGreaterThan(0);
    expect(report.problems.join("\n")).toMatch(
      /race \(suspended [^)]*\): answered status "200 suspended [0-9.]+", debit "200 [^"]*", credit "[^"]*"; no order of the object gives these/,
    );
  });
});

/**
 * The wallet of `send`, but in a race with a suspend (the bank issues the race's launch token
 * first, so a token issued marks one), the race's `type` of transaction waits until the suspend
 * is answered and is then handled by `instead`.
 */
function duringSuspendRaces(type: "Debit" | "Credit", instead: Send): Send {
  const suspends = new Map<string, { answered: Promise<boolean>; settle: (s: boolean) => void }>();
  return async (method, path, body) => {
    const admin = /^\/admin\/players\/([^/]+)(\/sessions)?$/.exec(path);
    const playerId =
      admin?.[1] ?? encodeURIComponent(String(Reflect.get(Object(body), "player_id")));
    if (admin && method === "POST" && admin[2]) {
      let settle: (suspended: boolean) => void = () => {};
      const answered = new Promise<boolean>((resolve) => {
        settle = resolve;
      });
      suspends.set(playerId, { answered, settle });
    }
    const race = suspends.get(playerId);
    if (admin && method === "PATCH" && race) {
      const answer = await send(method, path, body);
      suspends.delete(playerId);
      race.settle(Reflect.get(Object(body), "status") === "suspended");
      return answer;
    }
    const held =
      path === "/wallet/transaction" && Reflect.get(Object(body), "transaction_type") === type;
    if (held && race && (await race.answered)) return instead(method, path, body);
    return send(method, path, body);
  };
}

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
      // Cancels by batch_id alone of an archived batch were played, and answered as the model says.
      expect(report.archivedBatchCancels).toBeGreaterThan(0);
      console.log(
        `bank across the archive: ${report.archivedBatchCancels} cancels by batch_id alone of an archived batch`,
      );
    } finally {
      vi.useRealTimers();
    }
    const withArchive = await admin("GET", "/admin/reconcile?archive=true");
    expect(withArchive.body.ok).toBe(true);
  });
});
