// `npm run bench`: edge-wallet under load, next to a minimal baseline Worker (bench/baseline/)
// run the same way (wrangler dev on 127.0.0.1, fresh local D1) in the same run. Baseline and
// wallet runs alternate (baseline, wallet, baseline, wallet… `--pairs` times) and every target is
// judged on the median of the pairs' ratios, printed with its spread, so a busy machine moves
// both sides of a ratio alike. `--d1-rtt-ms N` models a D1 round trip of N ms on every D1 call
// (src/ledger/d1-round-trip.ts). Prints a table, writes bench/results.json, and exits non-zero on
// any non-2xx answer, failed item or failed reconciliation. `--curve` measures the cost curve
// instead (bench/curve.mjs), `--soak` the archive soak (bench/soak.mjs). Options:
// `npm run bench -- --help`.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT, startLocalWallet } from "../scripts/lib/local-wallet.mjs";
import { bundleReport, startupReport } from "./bundle.mjs";
import { runCurve } from "./curve.mjs";
import { printSoak, runSoak } from "./soak.mjs";
import {
  createPlayers,
  HOT_PLAYER,
  hot,
  inspectorAttached,
  playerId,
  reconcile,
  runBatches,
  runLoad,
  serverPids,
  spread,
  workerdRssMiB,
} from "./scenarios.mjs";

const BASELINE_CONFIG = join(REPO_ROOT, "bench", "baseline", "wrangler.toml");
const WARMUP_LIMIT_S = 60;
/** P1 over this many players first, to measure workerd's memory with few objects live. */
const FEW_PLAYERS = 10;

// name: [env var, default, lowest, highest]. The bounds keep every loop finite.
const NUMBERS = {
  duration: ["BENCH_DURATION", 8, 1, 600],
  pairs: ["BENCH_PAIRS", 3, 1, 20],
  warmup: ["BENCH_WARMUP", 1000, 0, 100_000],
  connections: ["BENCH_CONNECTIONS", 64, 1, 1024],
  players: ["BENCH_PLAYERS", 1000, FEW_PLAYERS, 100_000],
  "batch-players": ["BENCH_BATCH_PLAYERS", 1000, 1, 100_000],
  "batch-size": ["BENCH_BATCH_SIZE", 1000, 1, 1000], // the wallet's MAX_BATCH_SIZE
  "d1-rtt-ms": ["BENCH_D1_RTT_MS", 0, 0, 1000],
  cycles: ["BENCH_CYCLES", 4, 1, 100],
  "cycle-transactions": ["BENCH_CYCLE_TRANSACTIONS", 3000, 1, 1_000_000],
};
/** The soak's own defaults (a few minutes on 2 cores), where the option is not given. */
const SOAK_DEFAULTS = { players: 100, connections: 16 };

function options() {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(NUMBERS).map((name) => [name, { type: "string" }])),
      curve: { type: "boolean" },
      soak: { type: "boolean" },
      label: { type: "string" },
      ref: { type: "string" },
      var: { type: "string", multiple: true },
      out: { type: "string" },
      print: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(`npm run bench -- [options]   (each also as an env var)
  --d1-rtt-ms N      model a D1 round trip of N ms on every D1 call of the wallet and the baseline
                     (BENCH_D1_RTT_MS, 0); P3 then also runs at RTT 0 for its target
  --pairs N          alternating baseline/wallet (and group commit off/on) runs per scenario (BENCH_PAIRS, 3)
  --duration S       seconds of each measured load run (BENCH_DURATION, 8)
  --warmup N         unmeasured requests before the first load run of each server, at most 60 s
                     (BENCH_WARMUP, 1000: one per player, so every player's object is live)
  --connections N    concurrent connections (BENCH_CONNECTIONS, 64)
  --players N        players of P1 and P3 (BENCH_PLAYERS, 1000)
  --batch-size N     items per P3 batch (BENCH_BATCH_SIZE, 1000)
  --batch-players N  players one batch spreads over, at most --players (BENCH_BATCH_PLAYERS, 1000)
  --curve            measure the cost curve instead (P3 batch sizes 10/100/1000, P1 at 1/8/64
                     connections, at RTT 0 and 25 ms); writes bench/results/curve.{json,svg}
  --soak             the archive soak instead (LEDGER_RETENTION_DAYS=1): a fill "day" of load,
                     then --cycles "days", each a load of --cycle-transactions signed
                     transactions with the hourly archive job run during it, archiving the day
                     before; prints live D1 bytes after every cycle (target: within 10% of cycle
                     1), R2 bytes per transaction, the job's time per 100,000 rows, its rows/s
                     under load and the load's rate and p99 with and without the job; writes
                     bench/results-soak.json. Players default to 100, connections to 16
  --cycles N         soak cycles (BENCH_CYCLES, 4)
  --cycle-transactions N  transactions per soak cycle (BENCH_CYCLE_TRANSACTIONS, 3000)
  --label TEXT       a name for this run, kept in the results (BENCH_LABEL)
  --ref REF          bench the wallet as of a git commit (default: the working tree as it is
                     at the start; either way a copy, so edits during the run change nothing)
  --var NAME=VALUE   a [vars] setting for the wallet, repeatable (e.g. GROUP_COMMIT_MAX_OPS=1)
  --out FILE         where the results go (bench/results.json)
  --print FILE       print the table, targets and bounds of an earlier results file (or soak), run nothing`);
    process.exit(0);
  }
  const chosen = {};
  for (const [name, [envName, fallback, low, high]] of Object.entries(NUMBERS)) {
    const soakDefault = values.soak ? SOAK_DEFAULTS[name] : undefined;
    const value = Number(values[name] ?? process.env[envName] ?? soakDefault ?? fallback);
    if (!Number.isInteger(value) || value < low || value > high)
      throw new Error(`--${name} must be an integer in ${low}..${high}`);
    chosen[name] = value;
  }
  for (const pair of values.var ?? [])
    if (!/^[A-Z][A-Z0-9_]*=/.test(pair)) throw new Error(`--var takes NAME=VALUE, not ${pair}`);
  return {
    d1RttMs: chosen["d1-rtt-ms"],
    pairs: chosen.pairs,
    durationS: chosen.duration,
    warmupRequests: chosen.warmup,
    connections: chosen.connections,
    players: chosen.players,
    batchSize: chosen["batch-size"],
    batchPlayers: Math.min(chosen["batch-players"], chosen.players),
    curve: values.curve ?? false,
    soak: values.soak ?? false,
    cycles: chosen.cycles,
    cycleTransactions: chosen["cycle-transactions"],
    label: values.label ?? process.env.BENCH_LABEL ?? null,
    ref: values.ref ?? null,
    vars: Object.fromEntries(
      (values.var ?? []).map((pair) => [
        pair.slice(0, pair.indexOf("=")),
        pair.slice(pair.indexOf("=") + 1),
      ]),
    ),
    out:
      values.out ??
      join(
        REPO_ROOT,
        "bench",
        values.curve ? "results-curve.json" : values.soak ? "results-soak.json" : "results.json",
      ),
    print: values.print ?? null,
  };
}

function machine() {
  const git = (args) =>
    spawnSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_gb: Math.round(totalmem() / 2 ** 30),
    platform: `${platform()} ${release()}`,
    node: process.version,
    wrangler: JSON.parse(
      readFileSync(join(REPO_ROOT, "node_modules", "wrangler", "package.json"), "utf8"),
    ).version,
    // "uncommitted" only for the files the wallet is built from, not for bench/ itself
    commit:
      git(["rev-parse", "--short", "HEAD"]) +
      (git(["status", "--porcelain", "--", "src", "migrations", "wrangler.toml"])
        ? " (uncommitted changes)"
        : ""),
  };
}

const progress = (line) => console.error(`[bench] ${line}`);

// wrangler dev rebuilds and restarts the Worker whenever a file under it changes, which would
// drop requests and mix two versions into one figure: the wallet runs from a copy of its
// sources (the working tree now, or a commit), with the project's node_modules linked in.
function walletCopy(ref) {
  const dir = mkdtempSync(join(tmpdir(), "edge-wallet-bench-"));
  // public/ holds the console's static assets, which wrangler.toml's [assets] requires (older refs lack it).
  const exists = (part) =>
    ref
      ? spawnSync("git", ["cat-file", "-e", `${ref}:${part}`], { cwd: REPO_ROOT }).status === 0
      : existsSync(join(REPO_ROOT, part));
  const parts = ["wrangler.toml", "src", "migrations", "public"].filter(exists);
  if (ref) {
    const archive = spawnSync("git", ["archive", "--format=tar", ref, ...parts], {
      cwd: REPO_ROOT,
      maxBuffer: 256 * 2 ** 20,
    });
    const untar =
      archive.status === 0 && spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
    if (untar?.status !== 0)
      throw new Error(`cannot read ${parts.join(", ")} of ${ref}: ${archive.stderr}`);
  } else {
    for (const part of parts) cpSync(join(REPO_ROOT, part), join(dir, part), { recursive: true });
  }
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** The [vars] that switch the round-trip model on (it is honoured only with fault injection). */
const rttVars = (ms) => (ms > 0 ? { FAULT_INJECTION: "enabled", D1_RTT_MS: String(ms) } : {});

// Servers this process started, stopped on every way out (each is its own process group).
const running = new Set();
let copy; // the wallet's sources for this run (walletCopy)
let reloads = 0;
async function startServer(name, config, vars) {
  progress(`starting ${name} (wrangler dev)…`);
  const log = (line) => /Reloading local server/.test(line) && reloads++;
  // No inspector attached: see scripts/lib/wrangler-dev-api.mjs.
  const server = await startLocalWallet({ config, vars, log, inspector: false });
  running.add(server);
  server.name = name;
  server.pids = serverPids(server.url);
  server.inspectorAttached = inspectorAttached(server.pids);
  return server;
}
async function stopAll() {
  await Promise.all([...running].map((server) => server.stop()));
  running.clear();
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await stopAll();
    if (copy) rmSync(copy, { recursive: true, force: true });
    process.exit(130);
  });
}

async function warm(server, opts, scenario, pick, requests = opts.warmupRequests) {
  if (requests === 0) return;
  progress(`${server.name}: ${scenario} warm-up, ${requests} requests`);
  const shape = {
    url: server.url,
    secret: server.secret,
    pids: server.pids,
    pick,
    connections: opts.connections,
  };
  const result = await runLoad({
    ...shape,
    scenario: `${scenario} warm-up`,
    durationS: WARMUP_LIMIT_S,
    maxRequests: requests,
  });
  if (result.errors + result.non_2xx > 0)
    throw new Error(
      `${scenario} warm-up: ${result.errors} errors, ${result.non_2xx} non-2xx; ${result.failures.join(" | ")}`,
    );
  return result;
}

/** One call to each of the first `players` players: the first call after their objects were evicted. */
const cold = (server, opts, scenario, players) =>
  warm(server, opts, scenario, spread(players), players);

function load(server, opts, scenario, pick, connections = opts.connections) {
  progress(`${server.name}: ${scenario}, ${opts.durationS} s, ${connections} connections`);
  return runLoad({
    url: server.url,
    secret: server.secret,
    pids: server.pids,
    pick,
    connections,
    scenario,
    durationS: opts.durationS,
  });
}

function batch(server, opts, scenario, batchSize = opts.batchSize, batches = 1) {
  progress(`${server.name}: ${scenario}, ${batches} batch(es) of ${batchSize}`);
  return runBatches({
    url: server.url,
    secret: server.secret,
    pids: server.pids,
    scenario,
    players: opts.batchPlayers,
    batches,
    batchSize,
  });
}

// A scenario that throws (the server went away, say) is recorded as failed; the others still run.
async function attempt(scenario, run) {
  try {
    return await run();
  } catch (error) {
    const cause = error?.cause
      ? ` (${error.cause.code ?? ""} ${error.cause.message ?? error.cause})`
      : "";
    return { scenario, crashed: `${error?.message ?? error}${cause}` };
  }
}

// Finding the signing brand: verification against every live key (bench/signature-cost.ts, in
// Node: no server needed). A short load run (the smoke test) takes fewer calls per round.
function signatureCost(opts) {
  const run = spawnSync(
    process.execPath,
    [join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "bench/signature-cost.ts"],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, SIGNATURE_CALLS: opts.durationS <= 1 ? "100" : "1000" },
    },
  );
  if (run.status !== 0) throw new Error(`bench/signature-cost.ts failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const round2 = (x) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
const ratio = (a, b) => (b > 0 ? round2(a / b) : null);
const measured = (r) => r !== undefined && !r.crashed;
function median(values) {
  const sorted = values.filter((v) => typeof v === "number").sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
/** The median of a figure over the pairs, with its spread. */
const spreadOf = (values) => {
  const v = values.filter((x) => typeof x === "number");
  return v.length === 0
    ? null
    : {
        median: round2(median(v)),
        min: round2(Math.min(...v)),
        max: round2(Math.max(...v)),
        n: v.length,
      };
};

/** One run at one RTT: every scenario `pairs` times, baseline and wallet alternating. */
async function mainRun(opts, results) {
  const rtt = opts.d1RttMs;
  const s = results.scenarios;
  const runs = {
    baseline_p1_cold: [],
    baseline_p1: [],
    p1_cold: [],
    p1: [],
    p2_on: [],
    p2_off: [],
    baseline_p3: [],
    p3: [],
    p3_rtt0: [],
  };
  results.runs = runs;
  const pushRun = async (list, name, run) => list.push(await attempt(name, run));

  const baseline = await startServer("baseline", BASELINE_CONFIG, rttVars(rtt));
  const wallet = await startServer(
    `wallet (${results.wallet_source})`,
    join(copy, "wrangler.toml"),
    { ...opts.vars, ...rttVars(rtt) },
  );
  const walletOff = await startServer("wallet, group commit off", join(copy, "wrangler.toml"), {
    ...opts.vars,
    ...rttVars(rtt),
    GROUP_COMMIT_MAX_OPS: "1",
  });
  const wallet0 =
    rtt > 0 ? await startServer("wallet at RTT 0", join(copy, "wrangler.toml"), opts.vars) : null;

  results.inspector_attached = [baseline, wallet, walletOff, wallet0].some(
    (server) => server?.inspectorAttached,
  );
  const ids = [...Array.from({ length: opts.players }, (_, n) => playerId(n)), HOT_PLAYER];
  progress(`creating ${ids.length} players on each wallet`);
  for (const w of [wallet, walletOff, wallet0])
    if (w) await createPlayers({ url: w.url, adminToken: w.adminToken, ids });

  // Memory: workerd's RSS with few player objects live, then with every player's object live.
  results.memory = { rss_mib_start: workerdRssMiB(wallet.pids) };
  await warm(
    wallet,
    opts,
    `P1 over ${FEW_PLAYERS} players`,
    spread(FEW_PLAYERS),
    Math.max(opts.warmupRequests, 200),
  );
  results.memory.rss_mib_few = workerdRssMiB(wallet.pids);
  await warm(wallet, opts, "P1", spread(opts.players));
  await warm(baseline, opts, "baseline P1", spread(opts.players));
  await warm(wallet, opts, "P2", hot(), Math.min(opts.warmupRequests, 200));
  await warm(walletOff, opts, "P2 off", hot(), Math.min(opts.warmupRequests, 200));
  if (wallet0) await warm(wallet0, opts, "P1 at RTT 0", spread(opts.players));

  for (let pair = 1; pair <= opts.pairs; pair++) {
    progress(`pair ${pair} of ${opts.pairs}`);
    // Local workerd, like Cloudflare, evicts an object after 10 s without a call, and the other
    // runs of a pair take longer than that. So P1 first calls each player once (its first call
    // after an eviction: kept as "P1, cold objects") and then measures live objects.
    await pushRun(runs.baseline_p1_cold, "baseline P1 cold", () =>
      cold(baseline, opts, `baseline P1 cold #${pair}`, opts.players),
    );
    await pushRun(runs.baseline_p1, "baseline P1", () =>
      load(baseline, opts, `baseline P1 #${pair}`, spread(opts.players)),
    );
    await pushRun(runs.p1_cold, "P1 cold", () =>
      cold(wallet, opts, `P1 cold #${pair}`, opts.players),
    );
    await pushRun(runs.p1, "P1", () => load(wallet, opts, `P1 #${pair}`, spread(opts.players)));
    await pushRun(runs.p2_off, "P2 group commit off", () =>
      load(walletOff, opts, `P2 off #${pair}`, hot()),
    );
    await pushRun(runs.p2_on, "P2", () => load(wallet, opts, `P2 #${pair}`, hot()));
    await pushRun(runs.baseline_p3, "baseline P3", () =>
      batch(baseline, opts, `baseline P3 #${pair}`),
    );
    // P3 too measures live objects: what a cold object adds is P1's cold figure.
    await cold(wallet, opts, `P3 objects #${pair}`, opts.batchPlayers);
    await pushRun(runs.p3, "P3", () => batch(wallet, opts, `P3 #${pair}`));
    if (wallet0) {
      await cold(wallet0, opts, `P3 RTT0 objects #${pair}`, opts.batchPlayers);
      await pushRun(runs.p3_rtt0, "P3 at RTT 0", () => batch(wallet0, opts, `P3 RTT0 #${pair}`));
    }
  }
  results.memory.rss_mib_all = workerdRssMiB(wallet.pids);
  results.memory.players = opts.players;
  results.memory.few_players = FEW_PLAYERS;
  results.memory.kib_per_player_object =
    results.memory.rss_mib_all && results.memory.rss_mib_few
      ? Math.round(
          ((results.memory.rss_mib_all - results.memory.rss_mib_few) * 1024) /
            (opts.players - FEW_PLAYERS),
        )
      : null;

  results.reconcile = await attempt("reconciliation", () =>
    reconcile({ url: wallet.url, adminToken: wallet.adminToken }),
  );
  results.reconcile_off = await attempt("reconciliation", () =>
    reconcile({ url: walletOff.url, adminToken: walletOff.adminToken }),
  );
  await stopAll();

  // Summaries of the pairs: each figure's median over the runs, and each ratio pair by pair.
  const pick = (list, f) => list.map((r) => (measured(r) ? f(r) : null));
  const pairRatios = (a, b, f) =>
    a.map((r, i) => (measured(r) && measured(b[i]) ? ratio(f(r), f(b[i])) : null));
  const summary = (list, kind) =>
    kind === "load"
      ? {
          requests_per_s: spreadOf(pick(list, (r) => r.requests_per_s)),
          p50_ms: spreadOf(pick(list, (r) => r.p50_ms)),
          p99_ms: spreadOf(pick(list, (r) => r.p99_ms)),
          cpu_ms_per_tx: spreadOf(pick(list, (r) => r.cpu.server_cpu_ms_per_item)),
          workerd_cpu_ms_per_tx: spreadOf(pick(list, (r) => r.cpu.workerd_cpu_ms_per_item)),
          host_busy_pct: spreadOf(pick(list, (r) => r.cpu.host_busy_pct)),
        }
      : {
          batch_ms: spreadOf(pick(list, (r) => r.median_batch_ms)),
          cpu_ms_per_item: spreadOf(pick(list, (r) => r.cpu.server_cpu_ms_per_item)),
        };
  s.baseline_p1_cold = summary(runs.baseline_p1_cold, "load");
  s.baseline_p1 = summary(runs.baseline_p1, "load");
  s.p1_cold = summary(runs.p1_cold, "load");
  s.p1 = summary(runs.p1, "load");
  s.p2_on = summary(runs.p2_on, "load");
  s.p2_off = summary(runs.p2_off, "load");
  s.baseline_p3 = summary(runs.baseline_p3, "batch");
  s.p3 = summary(runs.p3, "batch");
  if (wallet0) s.p3_rtt0 = summary(runs.p3_rtt0, "batch");

  const p3Extra = runs.p3.map((r, i) =>
    measured(r) && measured(runs.p3_rtt0[i])
      ? r.median_batch_ms - runs.p3_rtt0[i].median_batch_ms
      : null,
  );
  const roundTrips = 4;
  results.ratios = {
    p1_throughput: spreadOf(pairRatios(runs.p1, runs.baseline_p1, (r) => r.requests_per_s)),
    p1_p99: spreadOf(pairRatios(runs.p1, runs.baseline_p1, (r) => r.p99_ms)),
    p1_cpu: spreadOf(pairRatios(runs.p1, runs.baseline_p1, (r) => r.cpu.server_cpu_ms_per_item)),
    p1_cold_cpu: spreadOf(
      pairRatios(runs.p1_cold, runs.baseline_p1_cold, (r) => r.cpu.server_cpu_ms_per_item),
    ),
    p1_workerd_cpu: spreadOf(
      pairRatios(runs.p1, runs.baseline_p1, (r) => r.cpu.workerd_cpu_ms_per_item),
    ),
    p2_group_commit: spreadOf(pairRatios(runs.p2_on, runs.p2_off, (r) => r.requests_per_s)),
    p3_vs_baseline: spreadOf(pairRatios(runs.p3, runs.baseline_p3, (r) => r.median_batch_ms)),
    p3_extra_ms_over_rtt0: spreadOf(p3Extra),
  };
  const r = results.ratios;
  results.targets = [
    {
      target: "P2 group commit on >= 5x off (req/s)",
      value: r.p2_group_commit,
      unit: "x",
      met: (v) => v >= 5,
    },
    {
      target: "P1 throughput >= 0.5x baseline",
      value: r.p1_throughput,
      unit: "x",
      met: (v) => v >= 0.5,
    },
    { target: "P1 p99 <= 2x baseline p99", value: r.p1_p99, unit: "x", met: (v) => v <= 2 },
    { target: "P1 CPU per tx <= 1.5x baseline", value: r.p1_cpu, unit: "x", met: (v) => v <= 1.5 },
    {
      target: "  (the same, workerd alone: no wrangler proxy)",
      value: r.p1_workerd_cpu,
      unit: "x",
      met: (v) => v <= 1.5,
    },
    {
      target: "  (P1 CPU on cold objects: for information)",
      value: r.p1_cold_cpu,
      unit: "x",
      met: null,
    },
    rtt > 0
      ? {
          target: `P3 at RTT ${rtt} <= RTT 0 + ${roundTrips} round trips (${roundTrips * rtt} ms)`,
          value: r.p3_extra_ms_over_rtt0,
          unit: " ms",
          met: (v) => v <= roundTrips * rtt,
        }
      : {
          target: "P3 at RTT 0: the round-trip target needs --d1-rtt-ms",
          value: null,
          unit: "",
          met: null,
        },
  ].map(({ target, value, unit, met }) => ({
    target,
    median: value?.median ?? null,
    min: value?.min ?? null,
    max: value?.max ?? null,
    unit,
    met: met === null || !value ? null : met(value.median),
  }));
}

function printMain(results) {
  const s = results.scenarios;
  const o = results.options;
  const fmt = (x) => (x ? `${x.median} (${x.min}–${x.max})` : "failed");
  console.log(
    `\nedge-wallet bench${results.label ? ` "${results.label}"` : ""} of ${results.wallet_source}: D1 round trip modelled ${o.d1RttMs} ms; ${results.machine.cpus} cpus, node ${results.machine.node}, wrangler ${results.machine.wrangler}, ${results.date}`,
  );
  console.log(
    `${o.pairs} alternating pairs of ${o.durationS} s load runs at ${o.connections} connections; P3: one batch of ${o.batchSize} credits over ${o.batchPlayers} players per pair.`,
  );
  console.log(
    "each cell: median (min–max) over the pairs; server CPU: wrangler + workerd per transaction (P3: per item)\n",
  );
  const rows = [
    ["baseline P1: HMAC + DO RPC + 1 insert", s.baseline_p1],
    [`P1 spread over ${o.players} players`, s.p1],
    ...(s.p1_cold
      ? [
          ["baseline P1, cold objects", s.baseline_p1_cold],
          ["P1, cold objects (first call per player)", s.p1_cold],
        ]
      : []),
    ["P2 hot player, group commit on", s.p2_on],
    ["P2 hot player, group commit off", s.p2_off],
  ].map(([name, x]) => [
    name,
    fmt(x.requests_per_s),
    fmt(x.p50_ms),
    fmt(x.p99_ms),
    fmt(x.cpu_ms_per_tx),
    fmt(x.workerd_cpu_ms_per_tx),
    fmt(x.host_busy_pct),
  ]);
  const header = [
    "scenario",
    "req/s",
    "p50 ms",
    "p99 ms",
    "server CPU ms/tx",
    "of which workerd",
    "host busy %",
  ];
  const table = (head, body) => {
    const widths = head.map((h, i) =>
      Math.max(h.length, ...body.map((row) => String(row[i]).length)),
    );
    const line = (cells) =>
      cells
        .map((cell, i) => String(cell).padEnd(widths[i]))
        .join("  ")
        .trimEnd();
    console.log(line(head));
    console.log(line(widths.map((w) => "-".repeat(w))));
    for (const row of body) console.log(line(row));
  };
  table(header, rows);
  console.log();
  const batchRows = [
    [`baseline P3: 1 D1 batch of ${o.batchSize} inserts`, s.baseline_p3],
    [`P3 batch of ${o.batchSize} credits at RTT ${o.d1RttMs}`, s.p3],
    ...(s.p3_rtt0 ? [[`P3 batch of ${o.batchSize} credits at RTT 0`, s.p3_rtt0]] : []),
  ].map(([name, x]) => [name, fmt(x.batch_ms), fmt(x.cpu_ms_per_item)]);
  table(["batch scenario", "ms per batch", "server CPU ms/item"], batchRows);
  const m = results.memory;
  if (m)
    console.log(
      `\nmemory (workerd RSS): ${m.rss_mib_start} MiB idle, ${m.rss_mib_few} MiB after P1 over ${m.few_players} players, ${m.rss_mib_all} MiB with ${m.players} player objects live: ~${m.kib_per_player_object} KiB per player object`,
    );
  const b = results.bundle;
  if (b) {
    console.log(
      `bundle (wrangler deploy --dry-run): ${b.kib} KiB, ${b.gzip_kib} KiB gzip${b.minified ? ", minified" : ""}; by package: ${b.by_package
        .slice(0, 6)
        .map(([name, kib]) => `${name} ${kib} KiB`)
        .join(", ")}`,
    );
  }
  if (results.startup)
    console.log(
      `startup (wrangler check startup, local CPU profile): ${results.startup.cpu_ms} ms of script evaluation`,
    );
  const sig = results.signature;
  if (sig && !sig.crashed) {
    console.log(
      "signature check, median µs per request (Node WebCrypto; the default key is tried first, then each brand's):",
    );
    for (const [brands, r] of Object.entries(sig))
      console.log(
        `  ${brands.replace("_", " ")} (${r.keys} keys): default key ${r.default_key_us}, last brand ${r.last_brand_us}, bad signature ${r.bad_signature_us}`,
      );
  }
  console.log("\ntargets (judged on the median ratio of the pairs):");
  for (const t of results.targets) {
    const verdict = t.met === null ? "n/a" : t.met ? "met" : "NOT met";
    console.log(
      `  ${t.target.padEnd(58)} ${t.median === null ? "" : `${t.median}${t.unit} (${t.min}–${t.max})`.padStart(22)}  ${verdict}`,
    );
  }
  for (const line of bounds(results)) console.log(`  ${line}`);
  console.log(
    `\nreconciliation: ${results.reconcile?.status ?? results.reconcile?.crashed ?? "not run"} (group commit off: ${results.reconcile_off?.status ?? results.reconcile_off?.crashed ?? "not run"})`,
  );
}

// What bounds each target that is out of reach, from this run's own figures (bench/README.md
// says the same at length, with the design change that would move each bound).
function bounds(results) {
  const { scenarios: s, targets, options: o } = results;
  const lines = [];
  const [p2, p1Rate, p1P99, p1Cpu] = targets;
  const rtt = o.d1RttMs;
  const off = s.p2_off.requests_per_s?.median;
  const on = s.p2_on.requests_per_s?.median;
  const base = s.baseline_p1.requests_per_s?.median;
  if (p2.met === false && off && on && base) {
    lines.push(
      rtt
        ? `P2: off is bound by the round trip (${off} req/s: one write every ${Math.round(1000 / off)} ms, ${round2(1000 / off / rtt)} round trips of ${rtt} ms);`
        : `P2: off writes once every ${Math.round(1000 / off)} ms (${off} req/s) with no round trip to save: group commit can only save CPU here;`,
      `    on reaches ${on} req/s at ${s.p2_on.cpu_ms_per_tx?.median} ms of CPU per tx, host ${s.p2_on.host_busy_pct?.median}% busy; the baseline reaches ${base} req/s on this machine.`,
      on >= 0.9 * base
        ? `    On is at the machine's CPU bound: ${round2(base / off)}x is the most this machine can show.`
        : "    On is below the baseline's rate: look at the spread before reading a bound into it.",
    );
  }
  if ((p1Rate.met === false || p1P99.met === false) && p1Cpu.median) {
    lines.push(
      `P1: both sides are CPU-bound (host ${s.p1.host_busy_pct?.median}% busy): the wallet's ${s.p1.cpu_ms_per_tx?.median} ms of CPU per tx against the baseline's ${s.baseline_p1.cpu_ms_per_tx?.median} (${p1Cpu.median}x) sets its throughput (${p1Rate.median}x) and, at ${o.connections} connections, its queueing (p99 ${p1P99.median}x).`,
    );
  }
  const p3 = targets.at(-1);
  if (p3.met === false && rtt > 0) {
    lines.push(
      `P3: ${p3.median} ms over RTT 0 (spread ${p3.min}–${p3.max}) for a batch over ${o.batchPlayers} players, at ${s.p3.cpu_ms_per_item?.median} ms of CPU per item`,
      `    (the baseline's one D1 batch: ${s.baseline_p3.cpu_ms_per_item?.median}): P3 is CPU-bound, seconds per batch; a spread wider than 100 ms is noise, not round trips.`,
    );
  }
  return lines;
}

const opts = options();
if (opts.print) {
  const earlier = JSON.parse(readFileSync(opts.print, "utf8"));
  if (earlier.soak) printSoak(earlier.soak, earlier.options);
  else printMain(earlier);
  process.exit(0);
}
const results = {
  label: opts.label,
  date: new Date().toISOString(),
  machine: machine(),
  options: opts,
  scenarios: {},
  reconcile: null,
  targets: [],
  failures: [],
};
try {
  copy = walletCopy(opts.ref);
  results.wallet_source = opts.ref
    ? `${opts.ref} (${spawnSync("git", ["rev-parse", "--short", opts.ref], { cwd: REPO_ROOT, encoding: "utf8" }).stdout.trim()})`
    : "working tree";
  if (!opts.soak) {
    progress("bundle and startup (wrangler deploy --dry-run, wrangler check startup)");
    results.bundle = await attempt("bundle", () => bundleReport(join(copy, "wrangler.toml")));
    results.startup = await attempt("startup", () => startupReport(join(copy, "wrangler.toml")));
  }
  if (!opts.curve && !opts.soak) {
    progress("signature check with 1 and 20 brand keys (bench/signature-cost.ts)");
    results.signature = await attempt("signature", () => signatureCost(opts));
  }
  if (opts.soak) {
    results.soak = await runSoak(opts, {
      copy,
      progress,
      track: (server) => running.add(server),
    });
    results.failures.push(...results.soak.failures);
  } else if (opts.curve) {
    results.curve = await runCurve(opts, {
      startServer,
      stopAll,
      copy,
      warm,
      load,
      batch,
      rttVars,
      progress,
    });
  } else {
    await mainRun(opts, results);
  }
} catch (error) {
  results.failures.push(`the run stopped: ${error?.stack ?? error}`);
} finally {
  await stopAll();
  if (copy) rmSync(copy, { recursive: true, force: true }); // unlinks node_modules, never follows it
}

if (reloads > 0)
  results.failures.push(
    `wrangler reloaded a Worker ${reloads} time(s) during the run: the figures mix versions`,
  );
for (const r of Object.values(results.runs ?? {}).flat()) {
  if (r.crashed) results.failures.push(`${r.scenario}: ${r.crashed}`);
  else if (r.errors + r.non_2xx > 0)
    results.failures.push(
      `${r.scenario}: ${r.errors} errors, ${r.non_2xx} non-2xx; first: ${r.failures.join(" | ")}`,
    );
}
for (const rec of [results.reconcile, results.reconcile_off]) {
  if (rec?.status === "skipped")
    console.error(`[bench] warning: reconciliation skipped (${rec.detail})`);
  if (rec?.crashed) results.failures.push(`reconciliation: ${rec.crashed}`);
  if (rec?.status === "failed")
    results.failures.push(`reconciliation failed: ${JSON.stringify(rec.detail).slice(0, 500)}`);
}
for (const part of ["bundle", "startup", "signature"])
  if (results[part]?.crashed) results.failures.push(`${part}: ${results[part].crashed}`);

if (!results.curve && results.targets.length > 0) printMain(results);
if (results.soak?.cycles?.length > 0) printSoak(results.soak, opts);
writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`results: ${opts.out}`);
if (results.failures.length > 0) {
  console.error(`\nFAILED:\n  ${results.failures.join("\n  ")}`);
  process.exit(1);
}
