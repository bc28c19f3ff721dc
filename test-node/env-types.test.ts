import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../scripts/lib/local-wallet.mjs";

// `Env` is not written by hand: `npm run cf-typegen` generates worker-configuration.d.ts from
// wrangler.toml and the .dev.vars examples. A binding or setting added there without regenerating
// fails here (wrangler types --check compares the inputs' hash with the checked-in file's).

function cfTypegen(args: string[]) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      "npm",
      ["run", "-s", "cf-typegen", "--", ...args],
      { cwd: REPO_ROOT, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("the generated Env (npm run cf-typegen)", () => {
  it("is up to date with wrangler.toml and the .dev.vars examples", async () => {
    const { code, output } = await cfTypegen(["--check"]);
    expect(code, output).toBe(0);
  });
});
