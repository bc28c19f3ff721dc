import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startLocalWallet } from "../scripts/lib/local-wallet.mjs";

// `npm run admin` against a real `wrangler dev`: each operator command reaches its route, prints
// the wallet's answer, and says a refusal with exit status 1 (2 for a usage error). The nightly
// Cron Trigger is fired the way an operator does after `npm start`: GET /__scheduled?cron=….

type Wallet = Awaited<ReturnType<typeof startLocalWallet>>;
type Run = { code: number; stdout: string; stderr: string };

let wallet: Wallet;
const PLAYER = "cli-player-1";

function admin(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const argv = [`${REPO_ROOT}/scripts/admin.mjs`, ...args, "--url", wallet.url];
    argv.push("--admin-token", wallet.adminToken);
    execFile(process.execPath, argv, { cwd: REPO_ROOT }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  wallet = await startLocalWallet();
  const created = await fetch(`${wallet.url}/admin/players`, {
    method: "POST",
    headers: { authorization: `Bearer ${wallet.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      player_id: PLAYER,
      operator_id: "op-cli",
      brand_id: "brand-cli",
      currency: "EUR",
      balance: "10.00",
    }),
  });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await wallet?.stop();
});

describe("npm run admin", () => {
  it("moves money in and out with transfers, exactly once per id", async () => {
    const topUp = ["transfer", PLAYER, "in", "5.25", "--id", "cli-t1", "--reason", "top-up"];
    const first = await admin(...topUp);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      transfer_id: "cli-t1",
      direction: "in",
      currency: "EUR",
    });
    // The balance keeps the currency's two decimals as the wallet wrote them.
    expect(first.stdout).toContain('"balance": 15.25');
    const again = await admin(...topUp);
    expect(again.stdout).toBe(first.stdout);

    const tooMuch = await admin("transfer", PLAYER, "out", "100", "--id", "cli-t2");
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toMatch(/^402 .*INSUFFICIENT_FUNDS/);

    const generated = await admin("transfer", PLAYER, "out", "0.25");
    expect(generated.code).toBe(0);
    expect(generated.stderr).toMatch(/^transfer_id transfer-[0-9a-f-]{36} \(send --id/);
    expect(JSON.parse((await admin("player", PLAYER)).stdout).balance).toBe(15);
  });

  it("suspends, reopens and revokes sessions", async () => {
    const suspended = await admin("status", PLAYER, "suspended");
    expect(suspended.code).toBe(0);
    expect(JSON.parse(suspended.stdout).status).toBe("suspended");
    expect(JSON.parse((await admin("status", PLAYER, "active")).stdout).status).toBe("active");
    const revoked = await admin("revoke-sessions", PLAYER);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ player_id: PLAYER });
  });

  it("looks up a transfer, reports the day, exports the ledger and reconciles", async () => {
    expect(JSON.parse((await admin("lookup", "cli-t1")).stdout).status).toBe("applied");
    const today = new Date().toISOString().slice(0, 10);
    const report = JSON.parse((await admin("report", "--from", today, "--to", today)).stdout);
    const day = report.days.find((d: { brand_id: string }) => d.brand_id === "brand-cli");
    expect(day).toMatchObject({ transfers_in: { count: 1 }, transfers_out: { count: 1 } });

    const out = join(mkdtempSync(join(tmpdir(), "edge-wallet-cli-")), "ledger.csv");
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const exported = await admin(
      "export",
      "--from",
      from,
      "--to",
      to,
      "--format",
      "csv",
      "--out",
      out,
    );
    expect(exported.code).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toMatch(/^entry_id,/);
    expect(lines.filter((line) => line.includes("cli-t1"))).toHaveLength(1);

    const reconcile = await admin("reconcile");
    expect(JSON.parse(reconcile.stdout).ok).toBe(true);
  });

  it("reads the run the Cron Trigger recorded when fired through /__scheduled (as npm start allows), and records a manual one", async () => {
    const none = await admin("reconcile-last");
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^404 .*NOT_FOUND/);

    // wrangler dev --test-scheduled (LOCAL_DEV_FLAGS, the flags npm start passes too).
    const fired = await fetch(`${wallet.url}/__scheduled?cron=15+0+*+*+*`);
    expect(fired.status).toBe(200);
    await expect
      .poll(async () => (await admin("reconcile-last")).code, { timeout: 10_000 })
      .toBe(0);
    const nightly = JSON.parse((await admin("reconcile-last")).stdout);
    expect(nightly).toMatchObject({ trigger: "cron", ok: true, disagreements: 0 });
    expect(nightly.players_checked).toBeGreaterThanOrEqual(1);

    const manual = await admin("reconcile-run");
    expect(manual.code).toBe(0);
    expect(JSON.parse(manual.stdout)).toMatchObject({ trigger: "manual", ok: true });
    expect(JSON.parse((await admin("reconcile-last")).stdout)).toEqual(JSON.parse(manual.stdout));
  });

  it("runs the archive job and shows its last run (today's rows stay: they are in the window)", async () => {
    const run = await admin("archive");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ran: true, rows_deleted: 0, error: null });
    const status = await admin("archive-status");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).last_run).toMatchObject({ trigger: "manual", error: null });
  });

  it("refuses what it cannot send: exit 2 with the usage", async () => {
    for (const args of [
      ["transfer", PLAYER, "sideways", "1"],
      ["nonsense"],
      ["player"],
      ["report"],
    ]) {
      const run = await admin(...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("usage: npm run -s admin");
    }
    expect((await admin("player", "nobody-here")).stderr).toMatch(/^404 .*PLAYER_NOT_FOUND/);
  });
});
