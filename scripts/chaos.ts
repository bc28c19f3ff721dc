// `npm run chaos -- [--seeds N] [--seed S] [--ops N] [--url U --secret S --admin-token T]`: the bank
// (test/bank/) over HTTP against the real wallet. Starts `wrangler dev` on 127.0.0.1 with its own
// local D1 and FAULT_INJECTION=enabled (or drives an already running wallet with --url), then per
// seed: creates 50 players through the admin API, sends the seed's operations signed as ThrillGate
// signs them (copies, concurrent retries, cancels before originals, batches) and the operator's
// transfers and status changes with the admin token, arms faults in the players' objects at random
// points, and checks every answer, balance, ledger and the wallet's reconciliation against the
// model. Prints a line per seed, a table and totals; exits 1 on any disagreement. A failing seed replays with --seed S (and the same --ops).
import { parseArgs } from "node:util";
import { runBank, type BankReport, type Send } from "../test/bank/run";
import { startLocalWallet } from "./lib/local-wallet.mjs";
import { createThrillGateClient } from "./lib/thrillgate-client.mjs";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "20" },
    seed: { type: "string" },
    "first-seed": { type: "string" },
    ops: { type: "string", default: "500" },
    "fault-rate": { type: "string", default: "0.1" },
    "in-flight": { type: "string", default: "32" },
    url: { type: "string" },
    secret: { type: "string" },
    "admin-token": { type: "string" },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`npm run chaos -- [options]
  --seeds N                 seeds to run (default 20), from --first-seed (default: from the clock)
  --seed S                  run this one seed only (replays a failure)
  --ops N                   operations per seed (default 500: 20 seeds make 10,000)
  --fault-rate F            share of operations with faults armed first (default 0.1)
  --in-flight N             operations in flight at once, on different players (default 32)
  --url U --secret S --admin-token T   drive a running wallet (started with FAULT_INJECTION=enabled)
  --verbose                 show wrangler's output`);
  process.exit(0);
}

const operations = Number(values.ops);
const firstSeed =
  values["first-seed"] === undefined ? Date.now() % 1_000_000 : Number(values["first-seed"]);
const seeds =
  values.seed !== undefined
    ? [Number(values.seed)]
    : Array.from({ length: Number(values.seeds) }, (_, i) => firstSeed + i);
if (!(operations > 0) || seeds.some((seed) => !Number.isSafeInteger(seed))) {
  console.error("--ops must be a positive number and seeds integers");
  process.exit(2);
}

const startedMs = performance.now();
type Wallet = { url: string; secret: string; adminToken: string; stop: () => Promise<void> };

async function startWallet(): Promise<Wallet> {
  console.log("starting wrangler dev (FAULT_INJECTION=enabled, a fresh local D1)…");
  const beganMs = performance.now();
  const log = values.verbose ? (line: string) => console.log(`  wrangler: ${line}`) : undefined;
  const started = await startLocalWallet({
    vars: { FAULT_INJECTION: "enabled" },
    ...(log ? { log } : {}),
  });
  console.log(
    `wallet at ${started.url} after ${((performance.now() - beganMs) / 1000).toFixed(1)} s`,
  );
  return started;
}

let wallet: Wallet;
if (values.url) {
  if (!values.secret || !values["admin-token"]) {
    console.error("--url needs --secret and --admin-token");
    process.exit(2);
  }
  wallet = {
    url: values.url,
    secret: values.secret,
    adminToken: values["admin-token"],
    stop: async () => {},
  };
} else {
  wallet = await startWallet();
}
process.once("SIGINT", () => void wallet.stop().then(() => process.exit(130)));

// ThrillGate's client (signature, timeout per attempt) with its retries off: the bank resends
// itself, so that it counts every request and knows which answer each copy finally got.
const clientOf = (w: Wallet) =>
  createThrillGateClient({ url: w.url, secret: w.secret, adminToken: w.adminToken });
const client = clientOf(wallet);
const send: Send = async (method, path, body) => {
  try {
    const answer = path.startsWith("/admin/")
      ? await client.admin(method, path, body)
      : await client.wallet(method, path, body, { retry: false });
    return "status" in answer
      ? { status: answer.status, text: answer.text }
      : { status: 0, text: "no answer" };
  } catch (error) {
    return { status: 0, text: String(error) }; // no answer (timeout, connection refused): retried like a 5xx
  }
};

async function answersHealth(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

const reports: BankReport[] = [];
// wrangler dev 4.124 sometimes exited by itself under this load (an empty ✘ [ERROR], upstream
// cloudflare/workers-sdk#15451) and each such seed ran again on a fresh wallet. 4.164 no longer
// does (20 seeds and 1,000-player batches without an exit), so a wallet that stops answering is
// now a failure like any other.
try {
  for (const seed of seeds) {
    let report: BankReport;
    try {
      report = await runBank({
        seed,
        operations,
        send,
        faultRate: Number(values["fault-rate"]),
        backoffMs: client.policy.backoffMs,
        maxInFlight: Number(values["in-flight"]),
      });
    } catch (error) {
      if (!(await answersHealth(wallet.url))) {
        throw new Error(
          `seed ${seed}: the wallet at ${wallet.url} stopped answering (wrangler dev exited)${values.verbose ? "" : "; --verbose shows its output"}`,
        );
      }
      throw error;
    }
    reports.push(report);
    console.log(
      `seed ${seed}: ${report.operations} operations, ${report.requests} requests, ${report.faultsArmed} faults armed, ` +
        `${report.disagreements} disagreements, ${report.doubleApplies} double applies, ${report.negativeBalances} negative balances, ` +
        `${report.reconciliationProblems} reconciliation problems (${(report.durationMs / 1000).toFixed(1)} s)`,
    );
    for (const problem of report.problems) console.log(`  ${problem}`);
  }
} finally {
  await wallet.stop();
}

const columns = [
  "seed",
  "operations",
  "requests",
  "faults",
  "disagreements",
  "double applies",
  "negative balances",
  "reconciliation",
] as const;
const row = (
  r: Omit<BankReport, "seed" | "problems" | "durationMs" | "sentOnce" | "outcomes"> & {
    seed: string | number;
  },
) => [
  r.seed,
  r.operations,
  r.requests,
  r.faultsArmed,
  r.disagreements,
  r.doubleApplies,
  r.negativeBalances,
  r.reconciliationProblems,
];
const sum = (pick: (r: BankReport) => number) => reports.reduce((total, r) => total + pick(r), 0);
const totals = {
  seed: "total",
  operations: sum((r) => r.operations),
  requests: sum((r) => r.requests),
  faultsArmed: sum((r) => r.faultsArmed),
  disagreements: sum((r) => r.disagreements),
  doubleApplies: sum((r) => r.doubleApplies),
  negativeBalances: sum((r) => r.negativeBalances),
  reconciliationProblems: sum((r) => r.reconciliationProblems),
};
const lines = [[...columns], ...reports.map(row), row(totals)].map((cells) => cells.map(String));
const widths = columns.map((_, i) => Math.max(...lines.map((cells) => cells[i]?.length ?? 0)));
console.log();
for (const cells of lines)
  console.log(cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  "));
// The status races (issue 25): how often each outcome and each order of the object came up.
const raceOutcomes = new Map<string, number>();
for (const report of reports)
  for (const [key, n] of Object.entries(report.outcomes))
    if (key.startsWith("race ")) raceOutcomes.set(key, (raceOutcomes.get(key) ?? 0) + n);
console.log(
  `\nraces: ${[...raceOutcomes]
    .sort()
    .map(([key, n]) => `${key.slice("race ".length)} ×${n}`)
    .join("; ")}`,
);
console.log(
  `\n${reports.length} seeds in ${((performance.now() - startedMs) / 1000).toFixed(1)} s`,
);

const failed =
  totals.disagreements +
    totals.doubleApplies +
    totals.negativeBalances +
    totals.reconciliationProblems >
  0;
console.log(
  failed
    ? "chaos: the wallet DISAGREES with the model"
    : "chaos: every answer, balance and ledger as the model says",
);
process.exit(failed ? 1 : 0);
