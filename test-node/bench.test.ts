import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../scripts/lib/local-wallet.mjs";

// `npm run bench` stays out of CI (minutes of load), but a tiny run of it with the D1 round-trip
// model stays in the suite, so that the bench, its baseline and the model cannot rot.
const dir = mkdtempSync(join(tmpdir(), "edge-wallet-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `node bench/run.mjs <args>` to its end. */
function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // process.execPath: the Node 22 running vitest, which wrangler 4.164 requires.
    execFile(
      process.execPath,
      ["bench/run.mjs", ...args],
      {
        cwd: REPO_ROOT,
        timeout: 170_000,
        env: {
          ...process.env,
          PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("the bench (smoke run)", () => {
  it("runs every scenario with a modelled D1 round trip, records the RTT and judges every target", async () => {
    const out = join(dir, "results.json");
    const args = [
      "--d1-rtt-ms",
      "5",
      "--pairs",
      "1",
      "--duration",
      "1",
      "--warmup",
      "20",
      "--players",
      "20",
      "--batch-size",
      "20",
      "--connections",
      "4",
      "--out",
      out,
    ];
    const { code, stdout, stderr } = await runBench(args);
    expect(code, `${stdout}\n${stderr}`.slice(-3000)).toBe(0);
    const results = JSON.parse(readFileSync(out, "utf8"));
    expect(results.options.d1RttMs).toBe(5);
    expect(results.failures).toEqual([]);
    expect(results.reconcile.status).toBe("ok");
    // CPU figures without the inspector the wrangler CLI attaches (every console.log goes through it).
    expect(results.inspector_attached).toBe(false);
    expect(results.targets.map((t: { target: string }) => t.target)).toHaveLength(7);
    for (const t of results.targets) expect(typeof t.median).toBe("number");
    expect(results.memory.rss_mib_all).toBeGreaterThan(0);
    expect(results.bundle.kib).toBeGreaterThan(0);
    expect(results.startup.cpu_ms).toBeGreaterThan(0);
    // Finding the signing brand: a bad signature is tried against every key, 21 with 20 brands.
    expect(results.signature["20_brands"].keys).toBe(21);
    expect(results.signature["20_brands"].bad_signature_us).toBeGreaterThan(0);
    expect(results.signature["1_brands"].default_key_us).toBeGreaterThan(0);
    expect(stdout).toContain("D1 round trip modelled 5 ms");
  });

  // ~25–40 s: a migration, five wrangler dev starts and 400 transactions.
  it("soaks: a fill day, then three days of load each with the hourly job archiving the day before under load, D1 bounded against cycle 1", async () => {
    const out = join(dir, "results-soak.json");
    const { code, stdout, stderr } = await runBench([
      "--soak",
      "--cycles",
      "3",
      "--cycle-transactions",
      "100",
      "--players",
      "10",
      "--connections",
      "4",
      "--out",
      out,
    ]);
    expect(code, `${stdout}\n${stderr}`.slice(-3000)).toBe(0);
    const { failures, soak, date } = JSON.parse(readFileSync(out, "utf8"));
    expect(failures).toEqual([]);
    expect(soak.reconcile.status).toBe("ok");
    // Days: the fill's, then one per cycle, the last one the day before the run's (so the load's own rows, stamped
    // today, are never in a day the concurrent job archives).
    const dayOf = (n: number) =>
      new Date(soak.first_day_ms + n * 86_400_000).toISOString().slice(0, 10);
    const yesterday = new Date(Date.parse(date) - 86_400_000).toISOString().slice(0, 10);
    expect(
      soak.fill.map((f: { day: string; transactions: number }) => [f.day, f.transactions]),
    ).toEqual([[dayOf(0), 100]]);
    expect(soak.cycles.map((c: { day: string }) => c.day)).toEqual([dayOf(1), dayOf(2), dayOf(3)]);
    expect(dayOf(3)).toBe(yesterday);
    // Each cycle's job ran as the hourly cron, as of 00:45 the day after the cycle's day, archived
    // the day before the cycle's (an entry and an id row for each of its 100 transactions) while
    // the load ran, and none of the cycle's own rows (all 100 were there to move onto its day).
    const at0045 = (n: number) =>
      new Date(soak.first_day_ms + n * 86_400_000 + 45 * 60_000).toISOString();
    type Cycle = {
      transactions: number;
      job: {
        now: string;
        days_archived: number;
        rows_deleted: number;
        transactions_archived: number;
        under_load_share: number;
        rows_per_s: number;
      };
      load_parts: Record<"before" | "during" | "after", { answers: number }>;
    };
    const cycles: Cycle[] = soak.cycles;
    expect(cycles.map((c) => c.job.now)).toEqual([at0045(2), at0045(3), at0045(4)]);
    for (const c of cycles) {
      expect([c.job.days_archived, c.job.rows_deleted, c.job.transactions_archived]).toEqual([
        1, 200, 100,
      ]);
      expect(c.transactions).toBe(100);
      expect(c.job.under_load_share).toBeGreaterThan(0);
      expect(c.job.rows_per_s).toBeGreaterThan(0);
      // A quarter of the load answered before the job was fired; every answer in one part.
      expect(c.load_parts.before.answers).toBe(25);
      expect(
        c.load_parts.before.answers + c.load_parts.during.answers + c.load_parts.after.answers,
      ).toBe(100);
    }
    // The job's deletes left free pages in the file: the figure is live pages, not the file.
    expect(soak.cycles[0].after.free_bytes).toBeGreaterThan(0);
    expect(soak.cycles[0].after.live_bytes).toBeLessThan(soak.cycles[0].after.file_bytes);
    expect(soak.summary.live_bytes_after_cycle_1).toBe(soak.cycles[0].after.live_bytes);
    expect(soak.summary.bounded).toBe(true);
    expect(soak.summary.transactions_archived).toBe(300);
    expect(soak.summary.load_errors).toBe(0);
    expect(soak.summary.r2_bytes_per_tx).toBeGreaterThan(0);
    expect(soak.summary.job_ms_per_100k_rows).toBeGreaterThan(0);
    expect(soak.summary.keeps_up_tx_per_s).toBeGreaterThan(0);
    expect(stdout).toMatch(/^fill 1 /m);
    expect(stdout).toMatch(/archive rows\/s under load: \d+/);
    expect(stdout).toMatch(
      /keeping up: measured per run under load, × 600 s per run × 24 hourly runs/,
    );
    expect(stdout).toMatch(
      /target: live D1 bytes after every cycle within 10% of the figure after cycle 1 .* PASS/,
    );
  });
});
