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

  // ~25 s: a migration, four wrangler dev starts and 300 transactions.
  it("soaks: three days of load, each archived at the next day's run, D1 bounded, R2 and job figures", async () => {
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
    const { failures, soak } = JSON.parse(readFileSync(out, "utf8"));
    expect(failures).toEqual([]);
    expect(soak.reconcile.status).toBe("ok");
    // Each job ran as of 00:15 of the day after its cycle, and archived the day before (window: 1 day).
    const at0015 = (day: number) =>
      new Date(soak.first_day_ms + day * 86_400_000 + 15 * 60_000).toISOString();
    expect(soak.cycles.map((c: { job: { now: string } }) => c.job.now)).toEqual([
      at0015(1),
      at0015(2),
      at0015(3),
    ]);
    expect(
      soak.cycles.map((c: { job: { days_archived: number; rows_deleted: number } }) => [
        c.job.days_archived,
        c.job.rows_deleted,
      ]),
    ).toEqual([
      [0, 0],
      [1, 200], // 100 entries and their 100 id rows
      [1, 200],
    ]);
    // The job's deletes left free pages in the file: the figure is live pages, not the file.
    expect(soak.cycles[1].after_archive.free_bytes).toBeGreaterThan(0);
    expect(soak.cycles[1].after_archive.live_bytes).toBeLessThan(
      soak.cycles[1].after_archive.file_bytes,
    );
    expect(soak.summary.window_from_cycle).toBe(2);
    expect(soak.summary.bounded).toBe(true);
    expect(soak.summary.transactions_archived).toBe(200);
    expect(soak.summary.r2_bytes_per_tx).toBeGreaterThan(0);
    expect(soak.summary.job_ms_per_100k_rows).toBeGreaterThan(0);
    expect(stdout).toMatch(/target: live D1 bytes .* PASS/);
  });
});
