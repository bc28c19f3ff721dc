import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Two projects. "workers": test/*.test.ts run inside workerd with the real local D1 and Durable
// Objects of wrangler.toml; only the secrets are fixed here, since .dev.vars is not committed.
// "node": test-node/*.test.ts run in Node and drive a real `wrangler dev` over HTTP, as ThrillGate
// and the operator's tools do (the simulator).
/** The shards every workers test runs over (test/setup.ts migrates each). */
const TEST_SHARDS = ["DB", "SHARD_1", "SHARD_2", "SHARD_3"];

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      // The Worker's one-line-per-request logs would bury the test report. (A root-only option
      // in vitest 4: projects cannot set it.)
      onConsoleLog: (log: string) => !log.startsWith('{"request_id"'),
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  WALLET_HMAC_SECRET: "test-hmac-secret-0123456789",
                  // Two brands with their own keys (test/brands.test.ts); the other tests play
                  // brand1, which is not listed, so the default key above signs for them.
                  WALLET_HMAC_SECRETS: JSON.stringify({
                    "brand-a": "test-brand-a-secret-0123456789",
                    "brand-b": "test-brand-b-secret-0123456789",
                  }),
                  ADMIN_TOKEN: "test-admin-token-0123456789",
                  // Never set in wrangler.toml: only test and chaos runs may arm faults.
                  FAULT_INJECTION: "enabled",
                  // Four shards (wrangler.toml has two): DB is the index and shard 0.
                  LEDGER_SHARDS: TEST_SHARDS.join(","),
                },
                // Merged with wrangler.toml's DB and SHARD_1.
                d1Databases: { SHARD_2: "edge-wallet-shard-2", SHARD_3: "edge-wallet-shard-3" },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            setupFiles: ["./test/setup.ts"],
            testTimeout: 60_000,
          },
        },
        {
          test: {
            name: "node",
            environment: "node",
            include: ["test-node/**/*.test.ts"],
            // Starting wrangler dev (migrations, workerd) takes seconds, more on a busy machine.
            testTimeout: 180_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
