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

describe("the bench (smoke run)", () => {
  it("runs every scenario with a modelled D1 round trip, records the RTT and judges every target", async () => {
    const out = join(dir, "results.json");
    const args = [
      "bench/run.mjs",
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
    const { code, stdout, stderr } = await new Promise<{
      code: number;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      // process.execPath: the Node 22 running vitest, which wrangler 4.164 requires.
      execFile(
        process.execPath,
        args,
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
});
