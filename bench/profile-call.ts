// `npx tsx bench/profile-call.ts`: where the CPU of one POST /wallet/transaction goes, step by
// step, for the steps that run the same in Node as in workerd (both V8): the config read, the
// signature, UTF-8 + JSON + the duplicate-key scan, zod, the decision, drizzle's SQL building for
// the write (against a D1 stand-in that only records), and the log line. The Durable Object RPC
// and the D1 batch itself need workerd: bench/README.md takes them from the bench's CPU per tx.
import { createHmac } from "node:crypto";
import { readConfig, type Env } from "../src/config";
import { ledgerDb } from "../src/ledger/db";
import { ledgerEntries } from "../src/ledger/schema";
import { commitWrites } from "../src/ledger/transactions";
import { parseJsonBody } from "../src/api/json";
import { parseWith, TransactionRequest } from "../src/api/schemas";
import { signerOf } from "../src/auth/hmac";
import { decideTransaction, writeOf } from "../src/wallet/decide";

const ITERATIONS = Number(process.env.PROFILE_ITERATIONS ?? 20_000);
const secret = "bench-secret-0123456789abcdef";
const env = {
  WALLET_HMAC_SECRET: secret,
  ADMIN_TOKEN: "admin-token-0123456789",
  ACCEPT_ZERO_VALUE_CREDITS: "true",
  MAX_BATCH_SIZE: "1000",
  MAX_BODY_BYTES: "1048576",
  TOKEN_TTL_SECONDS: "3600",
  GROUP_COMMIT_MAX_OPS: "50",
} as unknown as Env;
const text = JSON.stringify({
  player_id: "bench_00042",
  transaction_id: "abcd1234-P1-123456",
  transaction_type: "Credit",
  provider_id: "bench",
  amount: "0.01",
  currency: "EUR",
});
const bytes = new TextEncoder().encode(text);
const header = createHmac("sha256", secret).update(text).digest("hex");

// A D1 that records and answers nothing: drizzle builds every statement as for the real one.
const statement = {
  bind: () => statement,
  run: async () => ({}),
  all: async () => ({ results: [] }),
  raw: async () => [],
  first: async () => null,
};
const fakeD1 = {
  prepare: () => statement,
  batch: async (s: unknown[]) => s.map(() => ({ results: [], success: true, meta: {} })),
  exec: async () => ({}),
} as unknown as D1Database;
const db = ledgerDb(fakeD1);

async function time(name: string, step: () => unknown): Promise<[string, number]> {
  for (let i = 0; i < 500; i++) await step(); // warm the JIT
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await step();
  return [name, ((performance.now() - start) * 1000) / ITERATIONS];
}

const config = readConfig(env);
const body = parseWith(TransactionRequest, parseJsonBody(bytes));
// As api/transaction.ts's transactionOp (not imported: it pulls in cloudflare:workers).
const { player_id, transaction_id, transaction_type, amount, currency, ...metadata } = body;
const op = {
  transactionId: transaction_id,
  playerId: player_id,
  type: transaction_type,
  amount,
  ...(currency ? { currency } : {}),
  metadata,
};
const state = { playerId: op.playerId, currency: "EUR", balanceMinor: 100_000_000 };
const decision = decideTransaction(state, undefined, op, { acceptZeroValueCredits: true });
const write = writeOf(decision);
if (!write) throw new Error("the profiled credit should write");

const rows = [
  await time("readConfig(env) (zod over every setting, once per request)", () => readConfig(env)),
  await time("HMAC verify (crypto.subtle, key cached)", () =>
    signerOf(bytes, header, config.hmacKeys),
  ),
  await time("UTF-8 decode + JSON.parse with reviver + duplicate-key scan", () =>
    parseJsonBody(bytes),
  ),
  await time("  of which JSON.parse alone", () => JSON.parse(text)),
  await time("  of which JSON.parse with a reviver (as json.ts's)", () =>
    JSON.parse(
      text,
      function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
        return typeof value === "number" && key === "amount" ? context?.source : value;
      },
    ),
  ),
  await time("zod TransactionRequest", () => parseWith(TransactionRequest, JSON.parse(text))),
  await time("decision (pure)", () =>
    decideTransaction(state, undefined, op, { acceptZeroValueCredits: true }),
  ),
  await time("the write's statements: bind the SQL built once + batch call", () =>
    commitWrites(db, [write]),
  ),
  await time("  (building one insert's SQL, as each write did before)", () =>
    db
      .insert(ledgerEntries)
      .values({
        playerId: "p",
        transactionId: "t",
        kind: "debit",
        amountMinor: 1,
        balanceAfterMinor: 2,
        createdAtMs: 3,
      } as never)
      .toSQL(),
  ),
  await time("log line (JSON.stringify)", () =>
    JSON.stringify({
      request_id: crypto.randomUUID(),
      method: "POST",
      route: "/wallet/transaction",
      player_id: op.playerId,
      transaction_id: op.transactionId,
      outcome: "OK",
      status: 200,
      duration_ms: 3,
    }),
  ),
];
console.log(
  `CPU per step of one POST /wallet/transaction, µs (Node ${process.version}, mean of ${ITERATIONS})`,
);
for (const [name, us] of rows) console.log(`  ${name.padEnd(62)} ${us.toFixed(1).padStart(7)}`);
