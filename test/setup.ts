import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, expect } from "vitest";
import { ledgerDb } from "../src/ledger/db";
import { reconcile } from "../src/ledger/reconcile";

// The same migrations `wrangler d1 migrations apply` runs; applying twice is a no-op.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// Invariant 5 after every test file (each file has its own storage): whatever the file did,
// every balance equals opening balance + ledger, and every id has the entries its status says.
afterAll(async () => {
  const report = await reconcile(ledgerDb(env.DB));
  expect(report.balanceMismatches).toEqual([]);
  expect(report.transactionProblems).toEqual([]);
});
