import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_RULES } from "../src/api/error-rules";
import { ERROR_STATUS } from "../src/api/errors";
import { WALLET_ENDPOINTS } from "../src/api/routes";
import { REPO_ROOT } from "../scripts/lib/local-wallet.mjs";

// `npm run -s thrillgate-config`: the wallet definition an operator registers with ThrillGate,
// printed as the only thing on stdout, built from the router's paths and the one error table.

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "npm",
      ["run", "-s", "thrillgate-config", "--", ...args],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const REQUIRED = ["--host", "wallet.example.com", "--operator", "thrilltech", "--brand", "brand1"];
const SECRET = "a-secret-that-must-not-leak-0123456789";

describe("npm run thrillgate-config", () => {
  it("prints the wallet definition as the only thing on stdout, without the secret", async () => {
    const { code, stdout, stderr } = await run(REQUIRED, { WALLET_HMAC_SECRET: SECRET });
    expect(code, stderr).toBe(0);
    const definition = JSON.parse(stdout);
    expect(definition).toMatchObject({
      wallet_type: "StandardWallet",
      operator_id: "thrilltech",
      brand_id: "brand1",
      connection_details: { protocol: "https", host: "wallet.example.com", port: 443 },
      endpoints: WALLET_ENDPOINTS,
      config: {
        accept_zero_value_credits: true,
        must_close_gamerounds: true,
        request_timeout: 10,
        request_retry_limit: 3,
        request_retry_backoff: 2,
        retry_backoff_sleep: false,
      },
    });
    expect(Object.keys(definition.config).sort()).toEqual(
      [
        "accept_zero_value_credits",
        "error_response_rules",
        "must_close_gamerounds",
        "request_retry_backoff",
        "request_retry_limit",
        "request_timeout",
        "retry_backoff_sleep",
        "secret_key",
      ].sort(),
    );
    expect(definition.config.secret_key).toMatch(/WALLET_HMAC_SECRET/);
    expect(stdout).not.toContain(SECRET);
  });

  it("prints the secret only when asked with --include-secret", async () => {
    const { code, stdout } = await run([...REQUIRED, "--include-secret"], {
      WALLET_HMAC_SECRET: SECRET,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).config.secret_key).toBe(SECRET);
  });

  it("--include-secret prints the brand's own key if WALLET_HMAC_SECRETS lists it, else the default key", async () => {
    const keys = JSON.stringify({ b1: "brand-one-key-0123456789", b2: "brand-two-key-0123456789" });
    const env = { WALLET_HMAC_SECRET: SECRET, WALLET_HMAC_SECRETS: keys };
    const brand = (id: string) => [
      "--host",
      "wallet.example.com",
      "--operator",
      "thrilltech",
      "--brand",
      id,
      "--include-secret",
    ];
    for (const [id, key] of [
      ["b1", "brand-one-key-0123456789"],
      ["b2", "brand-two-key-0123456789"],
      ["brand1", SECRET],
    ]) {
      const { code, stdout, stderr } = await run(brand(String(id)), env);
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout).config.secret_key).toBe(key);
    }
    const bad = await run(brand("b1"), { ...env, WALLET_HMAC_SECRETS: `{"b1":"${SECRET}"` });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("WALLET_HMAC_SECRETS");
    expect(bad.stderr).not.toContain(SECRET);
  });

  it("has a rule for every error code the wallet can answer, keyed <status>:<code>", async () => {
    const rules = JSON.parse((await run(REQUIRED)).stdout).config.error_response_rules;
    const wanted = Object.entries(ERROR_STATUS)
      .map(([code, status]) => `${status}:${code}`)
      .sort();
    expect(Object.keys(rules).sort()).toEqual(wanted);
    for (const [code, rule] of Object.entries(ERROR_RULES)) {
      expect(rules[`${rule.status}:${code}`]).toEqual({
        must_retry: rule.retry,
        must_cancel: rule.cancel,
      });
    }
    // What the rules must say, whatever else changes: a 5xx is retried and a Debit after it
    // cancelled; a refusal for funds is final; a duplicate is never cancelled (the id is another's).
    expect(rules["503:UNAVAILABLE"]).toEqual({ must_retry: true, must_cancel: true });
    expect(rules["500:INTERNAL_ERROR"]).toEqual({ must_retry: true, must_cancel: true });
    expect(rules["402:INSUFFICIENT_FUNDS"].must_retry).toBe(false);
    expect(rules["409:DUPLICATE_TRANSACTION"].must_cancel).toBe(false);
  });

  it("reads accept_zero_value_credits from wrangler.toml [vars], and a flag overrides it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-config-"));
    try {
      const config = join(dir, "wrangler.toml");
      writeFileSync(config, 'name = "x"\n[vars]\nACCEPT_ZERO_VALUE_CREDITS = "false"\n');
      const fromFile = JSON.parse((await run([...REQUIRED, "--config", config])).stdout).config;
      expect([fromFile.accept_zero_value_credits, fromFile.must_close_gamerounds]).toEqual([
        false,
        false,
      ]);
      const flagged = JSON.parse(
        (await run([...REQUIRED, "--config", config, "--accept-zero-value-credits", "true"]))
          .stdout,
      ).config;
      expect(flagged.accept_zero_value_credits).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses to run without host, operator and brand, printing nothing on stdout", async () => {
    const { code, stdout, stderr } = await run(["--host", "h"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("--operator");
  });
});
