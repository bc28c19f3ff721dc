import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, expect } from "vitest";
import { ledgerDb } from "../src/ledger/db";
import { reconcile } from "../src/ledger/reconcile";
import { shardD1s } from "../src/ledger/shards";

// The same migrations `wrangler d1 migrations apply` runs, in every shard and the index (DB);
// applying twice is a no-op.
for (const d1 of shardD1s(env)) await applyD1Migrations(d1, env.TEST_MIGRATIONS);

// Invariant 5 after every test file (each file has its own storage): whatever the file did,
// every balance equals opening balance + ledger, and every id has the entries its status says.
afterAll(async () => {
  const report = await reconcile(ledgerDb(env.DB));
  expect(report.balanceMismatches).toEqual([]);
  expect(report.transactionProblems).toEqual([]);
});
