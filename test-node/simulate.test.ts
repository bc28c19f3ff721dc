import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startLocalWallet } from "../scripts/lib/local-wallet.mjs";
import { runScenarios } from "../scripts/simulate.mjs";

// The simulator against a real `wrangler dev` (fresh local D1, random secrets): every scenario of
// the contract must pass, whether it is called as a module or as the CLI ThrillTech would run.

type Wallet = Awaited<ReturnType<typeof startLocalWallet>>;
type ScenarioResult = { scenario: string; expected: string; got: string; pass: boolean };

let wallet: Wallet;

beforeAll(async () => {
  // With the wallet's own fault injection, so the failure paths use it where they can.
  wallet = await startLocalWallet({ vars: { FAULT_INJECTION: "enabled" } });
});

afterAll(async () => {
  await wallet?.stop();
});

/** The scenarios that failed, with what they expected and got: the failure message says why. */
function failures(results: ScenarioResult[]) {
  return results
    .filter((r) => !r.pass)
    .map((r) => `${r.scenario}: expected ${r.expected}; got ${r.got}`);
}

describe("the ThrillGate simulator", () => {
  it("passes every scenario of the contract against a local wallet", async () => {
    const report = await runScenarios({
      url: wallet.url,
      secret: wallet.secret,
      adminToken: wallet.adminToken,
    });
    expect(failures(report.scenarios)).toEqual([]);
    expect(report.totals.passed).toBe(report.scenarios.length);
    expect(report.scenarios.length).toBeGreaterThanOrEqual(32);
    // The jackpot round and its failure paths, under ThrillGate's default rules and the wallet's.
    for (const rules of ["ThrillGate's default rules", "the wallet's rules"]) {
      const jackpot = report.scenarios.filter(
        (r: ScenarioResult) =>
          r.scenario.startsWith("jackpot") && r.scenario.endsWith(`(${rules})`),
      );
      expect(jackpot.length).toBe(7);
    }
  });

  it("runs again as the CLI against the same wallet, prints one JSON document and exits 0", async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const args = [
        `${REPO_ROOT}/scripts/simulate.mjs`,
        "--url",
        wallet.url,
        "--secret",
        wallet.secret,
        "--admin-token",
        wallet.adminToken,
        "--json",
      ];
      // process.execPath: the Node 22 running vitest, which strips the types of src/auth/hmac.ts.
      execFile(
        process.execPath,
        args,
        { cwd: REPO_ROOT, timeout: 120_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
        },
      );
    });
    const report = JSON.parse(stdout);
    expect(failures(report.scenarios)).toEqual([]);
    expect(report.totals.failed).toBe(0);
    expect(code, stderr).toBe(0);
  });

  it("leaves a ledger that reconciles exactly (balance = opening + entries for every player)", async () => {
    const response = await fetch(`${wallet.url}/admin/reconcile`, {
      headers: { authorization: `Bearer ${wallet.adminToken}` },
    });
    const report = await response.json();
    expect(report.balance_mismatches).toEqual([]);
    expect(report.transaction_problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
