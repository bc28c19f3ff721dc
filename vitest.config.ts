import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real local D1 and Durable Objects of wrangler.toml;
// only the secrets are fixed here, since .dev.vars is not committed.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            WALLET_HMAC_SECRET: "test-hmac-secret-0123456789",
            ADMIN_TOKEN: "test-admin-token-0123456789",
            // Never set in wrangler.toml: only test and chaos runs may arm faults.
            FAULT_INJECTION: "enabled",
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      testTimeout: 60_000,
      // The Worker's one-line-per-request logs would bury the test report.
      onConsoleLog: (log: string) => !log.startsWith('{"request_id"'),
    },
  };
});
