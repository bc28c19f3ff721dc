// `npm run bench -- --soak`: does D1 stay bounded while the wallet runs for days, and does the
// archive job keep up while traffic flows? With LEDGER_RETENTION_DAYS=1 (a window of one day):
// - a fill step first: one day of load and no job run. A cycle means a steady-state day (a day in,
//   a day out); until the window is full the job has nothing to archive, so the day that fills it
//   is no cycle, and it is printed as "fill".
// - then N cycles, each one "day": a load of signed transactions (random UUID ids, as ThrillGate
//   sends) and, while it runs, the archive job as the hourly Cron Trigger runs it, as of 00:45 of
//   the day after the cycle's day, so that it archives the day before the cycle's (the fill's, or
//   the previous cycle's), as the real job archives a closed day while the new day's traffic flows.
// After every step it reads the persisted D1 file with sqlite3: live bytes, (page_count −
// freelist_count) × page_size, since SQLite never shrinks a file on delete (freed pages go to the
// freelist and are reused). Target (issue #22): live bytes after every cycle within 10% of the
// figure after cycle 1. Also: R2 bytes per archived transaction (GET /admin/archive), the job's
// time per 100,000 rows (its own duration_ms in archive_runs), its rows per second under load and
// so the load one database's archive keeps up with, and the load's rate and p99 with the job
// running against the same load without it.
//
// Time: the wallet stamps rows with the real clock, and a closed day gets no new rows in a real
// deployment. So after each step the soak stops the server and moves the step's rows by whole
// days onto the step's day in the D1 file: the only write made outside the wallet, to the three
// tables the job archives by created_at_ms. It also moves their two time-index entries, churn a
// real day does not have (bench/README.md, "Soak"). The soak's days end yesterday (the last
// cycle's), so while a cycle's load runs its rows carry today's date, later than every day the
// concurrent job archives: the job takes the previous step's day, moved already, and never a row
// being written (checked: every row of the cycle is still there to move). A step that runs across
// midnight UTC is split over two days, and the checks fail: run it again.
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, migrateAll, spawnWrangler } from "../scripts/lib/local-wallet.mjs";
import { createPlayers, playerId, reconcile, runLoad, spread } from "./scenarios.mjs";

const MS_PER_DAY = 86_400_000;
/**
 * src/jobs/nightly.ts HOURLY_CRON: the archive job alone (the nightly cron also reconciles the
 * whole ledger, which would be timed with it). Were the two to disagree, the Worker would run
 * nothing for the cron, and the soak fail on the missing run.
 */
const HOURLY_CRON = "45 * * * *";
const CRON_AFTER_MIDNIGHT_MS = 45 * 60_000;
/** src/jobs/archive.ts ARCHIVE_RUN_BUDGET_MS: one run works this long, then leaves the rest. */
const RUN_BUDGET_S = 600;
/** The hourly cron's runs; the nightly run is one more, left out (the figure errs low). */
const RUNS_PER_DAY = 24;
/**
 * The job is fired once this share of a cycle's load is answered: by then the restarted server is
 * warm, and the load after the job is the same load without it, to compare with.
 */
const JOB_AFTER_SHARE = 0.25;
/** Live D1 bytes after every cycle within this share of the figure after the first. */
export const SOAK_TOLERANCE = 0.1;
/** One day of live ledger, and ids forgotten by D1 with it (the smallest windows the job takes). */
const SOAK_VARS = { LEDGER_RETENTION_DAYS: "1", TRANSACTION_ID_RETENTION_DAYS: "1" };
/** The tables the job archives (and the index pass prunes) by created_at_ms. */
const TIMED_TABLES = ["ledger_entries", "transactions", "cancellations", "transaction_index"];

const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

function sqlite(file, text) {
  const out = execFileSync("sqlite3", ["-json", file, text], { encoding: "utf8" });
  return out.trim() ? JSON.parse(out) : [];
}

/**
 * The D1 database files wrangler dev persists under `persistDir` (not Miniflare's metadata file):
 * one per D1 binding, the index and every shard.
 */
function d1Files(persistDir) {
  const dir = join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (files.length === 0) throw new Error(`no D1 file in ${dir}`);
  return files.sort().map((f) => join(dir, f));
}

/**
 * What one D1 file holds: live bytes ((page_count − freelist_count) × page_size), the file's bytes,
 * and the bytes of each table and index (dbstat: its pages, used or not). Read from a copy of the
 * file and its WAL, so that sqlite3 never checkpoints or removes the WAL under a running workerd;
 * the copy is consistent because the wallet is idle when it is taken.
 */
function d1FileFigures(file) {
  const dir = mkdtempSync(join(tmpdir(), "edge-wallet-soak-db-"));
  try {
    const copy = join(dir, "d1.sqlite");
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
    const [pragmas] = sqlite(
      copy,
      `SELECT (SELECT page_count FROM pragma_page_count) AS page_count,
              (SELECT freelist_count FROM pragma_freelist_count) AS freelist_count,
              (SELECT page_size FROM pragma_page_size) AS page_size,
              (SELECT COUNT(*) FROM ledger_entries) AS ledger_entries,
              (SELECT COUNT(*) FROM transactions) AS transactions,
              (SELECT COUNT(*) FROM archived_id_owners) AS archived_id_owners,
              (SELECT COUNT(*) FROM transaction_index) AS transaction_index`,
    );
    const byName = Object.fromEntries(
      sqlite(copy, "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name").map((row) => [
        row.name,
        row.bytes,
      ]),
    );
    return {
      live_bytes: (pragmas.page_count - pragmas.freelist_count) * pragmas.page_size,
      file_bytes: pragmas.page_count * pragmas.page_size,
      free_bytes: pragmas.freelist_count * pragmas.page_size,
      rows: {
        ledger_entries: pragmas.ledger_entries,
        transactions: pragmas.transactions,
        archived_id_owners: pragmas.archived_id_owners,
        transaction_index: pragmas.transaction_index,
      },
      bytes_by_table_or_index: byName,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What D1 holds, summed over every database (the index and the shards). */
function d1Figures(persistDir) {
  const sum = (a, b) => {
    const out = { ...a };
    for (const [key, value] of Object.entries(b))
      out[key] = typeof value === "number" ? (out[key] ?? 0) + value : sum(out[key] ?? {}, value);
    return out;
  };
  return d1Files(persistDir).map(d1FileFigures).reduce(sum);
}

/**
 * Moves the rows created in [fromMs, toMs] by `days` whole days (back: the soak's days end
 * yesterday), in every D1 file of a stopped server (see the top of this file). Returns the id rows
 * moved: the step's transactions.
 */
function moveRows(persistDir, fromMs, toMs, days) {
  const inCycle = `created_at_ms BETWEEN ${fromMs} AND ${toMs}`;
  let moved = 0;
  for (const file of d1Files(persistDir)) {
    const [{ n }] = sqlite(file, `SELECT COUNT(*) AS n FROM transactions WHERE ${inCycle}`);
    moved += n;
    if (days !== 0) {
      const updates = TIMED_TABLES.map(
        (table) =>
          `UPDATE ${table} SET created_at_ms = created_at_ms + ${days * MS_PER_DAY} WHERE ${inCycle};`,
      );
      sqlite(file, `BEGIN; ${updates.join(" ")} COMMIT;`);
    }
  }
  return moved;
}

/** wrangler dev ended before it answered /health. */
class EarlyExit extends Error {}

/**
 * `wrangler dev` of the wallet's copy on 127.0.0.1, on `persistDir` (kept across restarts). The
 * CLI, as `npm start` runs it (the bench's inspector-free launcher is for CPU figures; the soak
 * measures bytes and the job's own time).
 */
async function startServer({ config, persistDir, vars, log }) {
  const port = await freePort();
  const args = [
    "dev",
    "--config",
    config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    persistDir,
    "--show-interactive-dev-session=false",
    "--inspector-port",
    String(await freePort()),
  ];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawnWrangler(args, {
    env: { NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: stop() ends wrangler and its workerd
  });
  // The last lines wrangler printed, for the error if it exits before answering.
  const tail = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) =>
      chunk
        .split("\n")
        .filter(Boolean)
        .forEach((line) => {
          tail.push(line);
          if (tail.length > 40) tail.shift();
          log(line);
        }),
    );
  }
  const groupAlive = () => {
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  // Waits until the whole process group is gone, not only wrangler: a workerd still shutting
  // down keeps the persisted D1 and the next start on the same directory may fail.
  const stop = async () => {
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    kill("SIGTERM");
    const deadline = Date.now() + 10_000;
    while (groupAlive()) {
      if (Date.now() > deadline) kill("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new EarlyExit(`wrangler dev exited with ${child.exitCode}:\n${tail.join("\n")}`);
    }
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the wallet did not answer ${url}/health in 120 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, stop };
}

async function adminGet(server, adminToken, path) {
  const response = await fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * The hourly Cron Trigger's handler as of `timeMs`; answers when it has run (the endpoint waits
 * for the handler's waitUntil). Through Miniflare's trigger endpoint, which wrangler dev always
 * serves locally: wrangler 4.164's `--test-scheduled` `/__scheduled` passes the cron on but drops
 * `time=` (its middleware dispatches `{ cron }` only), so the job would run as of now.
 */
async function runJobAt(server, timeMs) {
  const response = await fetch(
    `${server.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(HOURLY_CRON)}&time=${timeMs}`,
  );
  const text = await response.text();
  if (!response.ok) throw new Error(`/cdn-cgi/handler/scheduled: ${response.status} ${text}`);
}

/** The 99th percentile (nearest rank) of `values`, or null if there are none. */
function p99(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.99 * sorted.length) - 1];
}

/** Answers (latencies, ms) over `seconds`: how many, their rate and their p99. */
function loadFigures(latencies, seconds) {
  return {
    seconds: round(seconds, 2),
    answers: latencies.length,
    per_s: seconds > 0 ? round(latencies.length / seconds, 1) : null,
    p99_ms: latencies.length > 0 ? round(p99(latencies), 1) : null,
  };
}

/**
 * One part of a load, [fromMs, toMs) of performance.now(): its answers' latencies (of `answers`,
 * [arrival ms, latency ms]) and its seconds (0 if the part is empty: a job that outlasted the load).
 */
function loadPart(answers, fromMs, toMs) {
  return {
    latencies: answers.filter(([at]) => at >= fromMs && at < toMs).map(([, ms]) => ms),
    seconds: Math.max(0, toMs - fromMs) / 1000,
  };
}

/**
 * Runs the soak. `opts`: cycles, cycleTransactions, players, connections, vars (added to the
 * soak's own). `hooks.track(server)` registers a server for the bench's exit handlers.
 */
export async function runSoak(opts, { copy, progress, track }) {
  const config = join(copy, "wrangler.toml");
  const persistDir = mkdtempSync(join(tmpdir(), "edge-wallet-soak-"));
  const secret = randomBytes(24).toString("hex");
  const adminToken = randomBytes(24).toString("hex");
  const vars = {
    WALLET_HMAC_SECRET: secret,
    ADMIN_TOKEN: adminToken,
    ...SOAK_VARS,
    ...opts.vars,
  };
  const jobLines = [];
  const log = (line) => line.includes('"event":"archive_run"') && jobLines.push(line);
  const windowDays = Number(vars.LEDGER_RETENTION_DAYS);
  // The fill's days, then one per cycle, the last one yesterday (see the top of this file).
  const firstDay = Math.floor(Date.now() / MS_PER_DAY) - windowDays - opts.cycles;
  const soak = {
    vars: { ...SOAK_VARS, ...opts.vars },
    first_day_ms: firstDay * MS_PER_DAY,
    window_days: windowDays,
  };
  const fill = [];
  const cycles = [];
  const failures = [];
  // Every cycle's answers, by part of its load, for the summary's figures over all cycles.
  const pooled = Object.fromEntries(
    ["before", "during", "after"].map((part) => [part, { latencies: [], seconds: 0 }]),
  );
  let server;
  const start = async () => {
    progress("soak: starting the wallet (wrangler dev)…");
    // One retry: on a shared machine wrangler dev now and then exits at start (a port taken
    // between freePort and its bind); a second failure stops the run with wrangler's output.
    try {
      server = await startServer({ config, persistDir, vars, log });
    } catch (error) {
      if (!(error instanceof EarlyExit)) throw error;
      progress(`soak: ${error.message.split("\n")[0]}; starting it once more`);
      server = await startServer({ config, persistDir, vars, log });
    }
    track(server);
    return server;
  };

  /**
   * One day of load, moved onto `day`; with `jobTimeMs`, the job fired while it runs. Ends with the
   * server stopped, the rows moved, D1 read, and the server started again.
   */
  const loadDay = async (label, day, jobTimeMs) => {
    const answers = [];
    let fire;
    const fired = new Promise((resolve) => {
      fire = resolve;
    });
    const fireAfter = Math.ceil(opts.cycleTransactions * JOB_AFTER_SHARE);
    const fromMs = Date.now();
    const loadStart = performance.now();
    const loading = runLoad({
      url: server.url,
      secret,
      scenario: `soak ${label}`,
      pick: spread(opts.players),
      connections: opts.connections,
      durationS: 3600,
      maxRequests: opts.cycleTransactions,
      idOf: () => randomUUID(),
      onAnswer: (latencyMs) => {
        answers.push([performance.now(), latencyMs]);
        if (answers.length === fireAfter) fire();
      },
    });
    let job = null;
    if (jobTimeMs !== undefined) {
      await Promise.race([fired, loading]); // a load that ends early (failures) still gets its job
      const jobStart = performance.now();
      await runJobAt(server, jobTimeMs);
      job = { start: jobStart, end: performance.now() };
    }
    const load = await loading;
    const loadEnd = performance.now();
    if (load.errors + load.non_2xx > 0)
      failures.push(
        `${label} load: ${load.errors} errors, ${load.non_2xx} non-2xx; ${load.failures.join(" | ")}`,
      );
    await server.stop();
    const toMs = Date.now();
    const moved = moveRows(persistDir, fromMs, toMs, day - Math.floor(fromMs / MS_PER_DAY));
    if (moved !== opts.cycleTransactions)
      failures.push(
        `${label}: ${moved} of its ${opts.cycleTransactions} transactions were there to move onto its day (a failed request, the job archiving the rows being written, or a step across midnight UTC)`,
      );
    const after = d1Figures(persistDir);
    await start();
    return {
      step: {
        day: dayText(day),
        transactions: moved,
        load: {
          requests_per_s: round(load.requests_per_s),
          p99_ms: load.p99_ms,
          errors: load.errors + load.non_2xx,
        },
        after,
      },
      answers,
      loadStart,
      loadEnd,
      job,
    };
  };

  try {
    progress("soak: migrating a fresh local D1");
    const failed = migrateAll(config, ["--local", "--persist-to", persistDir]);
    if (failed)
      throw new Error(
        `migrations of ${failed.binding} failed:\n${failed.stdout}\n${failed.stderr}`,
      );
    await start();
    const ids = Array.from({ length: opts.players }, (_, n) => playerId(n));
    progress(`soak: creating ${ids.length} players`);
    await createPlayers({ url: server.url, adminToken, ids });
    soak.empty = d1Figures(persistDir);

    for (let f = 0; f < windowDays; f++) {
      progress(`soak: fill ${f + 1} of ${windowDays}: ${opts.cycleTransactions} transactions`);
      const { step } = await loadDay(`fill ${f + 1}`, firstDay + f, undefined);
      fill.push(step);
    }

    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      const day = firstDay + windowDays - 1 + cycle;
      // As of 00:45 the day after the cycle's day: days before today − window, the previous step's.
      const jobTimeMs = (day + 1) * MS_PER_DAY + CRON_AFTER_MIDNIGHT_MS;
      progress(
        `soak: cycle ${cycle} of ${opts.cycles}: ${opts.cycleTransactions} transactions over ${opts.players} players, the job as of ${new Date(jobTimeMs).toISOString()} during it`,
      );
      const { step, answers, loadStart, loadEnd, job } = await loadDay(
        `cycle ${cycle}`,
        day,
        jobTimeMs,
      );
      const status = await adminGet(server, adminToken, "/admin/archive");
      const run = status.last_run;
      if (!run || run.now !== new Date(jobTimeMs).toISOString())
        failures.push(`cycle ${cycle}: the job recorded no run as of its time (${run?.now})`);
      else if (run.error !== null) failures.push(`cycle ${cycle}: the job failed: ${run.error}`);
      // The window's days stay live; each cycle's run archives one more, the previous step's day.
      const archivedDays = status.days.filter((d) => d.status === "archived").length;
      if (archivedDays !== cycle)
        failures.push(`cycle ${cycle}: ${archivedDays} days archived, expected ${cycle}`);
      const archivedDay = status.days.find((d) => d.date === dayText(day - windowDays));
      if (archivedDay?.status !== "archived")
        failures.push(`cycle ${cycle}: day ${dayText(day - windowDays)} was not archived`);

      const parts = {
        before: loadPart(answers, loadStart, job.start),
        during: loadPart(answers, job.start, Math.min(job.end, loadEnd)),
        after: loadPart(answers, job.end, loadEnd),
      };
      for (const [name, part] of Object.entries(parts)) {
        pooled[name].latencies.push(...part.latencies);
        pooled[name].seconds += part.seconds;
      }
      const seconds = (run?.duration_ms ?? 0) / 1000;
      const txArchived = archivedDay?.id_rows ?? 0;
      const txPerS = seconds > 0 ? txArchived / seconds : null;
      cycles.push({
        cycle,
        ...step,
        job: {
          now: run?.now ?? null,
          days_archived: run?.days_archived ?? null,
          rows_deleted: run?.rows_deleted ?? null,
          duration_ms: run?.duration_ms ?? null,
          wall_ms: round(job.end - job.start),
          // The share of the job's time the load ran: 1 unless the job outlasted the load.
          under_load_share: round(
            (Math.min(job.end, loadEnd) - job.start) / (job.end - job.start),
            2,
          ),
          transactions_archived: txArchived,
          rows_per_s: seconds > 0 ? round(run.rows_deleted / seconds) : null,
          tx_per_s: txPerS === null ? null : round(txPerS),
          keeps_up_tx_per_s: txPerS === null ? null : round(keepsUp(txPerS)),
        },
        load_parts: Object.fromEntries(
          Object.entries(parts).map(([name, part]) => [
            name,
            loadFigures(part.latencies, part.seconds),
          ]),
        ),
      });
    }
    soak.reconcile = await reconcile({ url: server.url, adminToken });
    if (soak.reconcile.status !== "ok")
      failures.push(`reconciliation: ${JSON.stringify(soak.reconcile.detail).slice(0, 500)}`);
    soak.archive = await adminGet(server, adminToken, "/admin/archive");
  } finally {
    await server?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  }
  soak.fill = fill;
  soak.cycles = cycles;
  soak.job_log_lines = jobLines;
  soak.summary = summarize(soak, fill, cycles, pooled);
  soak.failures = failures;
  return soak;
}

const dayText = (day) => new Date(day * MS_PER_DAY).toISOString().slice(0, 10);

/**
 * The sustained load (tx/s) one database's archive keeps up with, from the transactions it
 * archives per second of a run under load: × the seconds of a run's budget × runs a day, over the
 * seconds of a day. It assumes a run keeps that rate for its whole budget.
 */
const keepsUp = (txPerS) => (txPerS * RUN_BUDGET_S * RUNS_PER_DAY) / (MS_PER_DAY / 1000);

/** The largest share by which a cycle's live bytes differ from cycle 1's (null: no cycles). */
function drift(cycles) {
  if (cycles.length === 0) return null;
  const first = cycles[0].after.live_bytes;
  return round(Math.max(...cycles.map((c) => Math.abs(c.after.live_bytes - first) / first)), 4);
}

function summarize(soak, fill, cycles, pooled) {
  const worst = drift(cycles);
  const days = soak.archive?.days ?? [];
  const archivedTx = days.reduce((sum, d) => sum + d.id_rows, 0);
  const archivedEntries = days.reduce((sum, d) => sum + d.entry_rows, 0);
  const r2Bytes = days.reduce((sum, d) => sum + d.bytes, 0);
  const jobs = cycles.filter((c) => c.job.rows_deleted > 0);
  const rows = jobs.reduce((sum, c) => sum + c.job.rows_deleted, 0);
  const jobMs = jobs.reduce((sum, c) => sum + c.job.duration_ms, 0);
  const jobTx = jobs.reduce((sum, c) => sum + c.job.transactions_archived, 0);
  const range = (key) => {
    const values = jobs.map((c) => c.job[key]).filter((v) => v !== null);
    return values.length > 0 ? [Math.min(...values), Math.max(...values)] : null;
  };
  // What live transactions cost D1: the window's days over the database with players only,
  // fresh (after the fill) and at the steady state (after the last cycle).
  const perTx = (steps) => {
    const live = steps.slice(-soak.window_days);
    const tx = live.reduce((sum, s) => sum + s.transactions, 0);
    return tx > 0 ? round((live.at(-1).after.live_bytes - soak.empty.live_bytes) / tx) : null;
  };
  const owners = cycles.at(-1)?.after;
  const ownerRows = owners?.rows.archived_id_owners ?? 0;
  const ownerBytes = ["archived_id_owners", "archived_id_owners_day_idx"].reduce(
    (sum, name) => sum + (owners?.bytes_by_table_or_index[name] ?? 0),
    0,
  );
  return {
    live_bytes_after_fill: fill.at(-1)?.after.live_bytes ?? null,
    live_bytes_after_cycle_1: cycles[0]?.after.live_bytes ?? null,
    worst_drift: worst,
    bounded: worst === null ? null : worst <= SOAK_TOLERANCE,
    d1_live_bytes_per_tx_fresh: perTx(fill),
    d1_live_bytes_per_tx: perTx([...fill, ...cycles]),
    // The owner index (ids archived, still refused to other players): bytes per id, its two
    // structures' pages over their rows, when the id window keeps any (TRANSACTION_ID_RETENTION_DAYS > 1).
    owner_rows: ownerRows,
    owner_bytes_per_id: ownerRows > 0 ? round(ownerBytes / ownerRows) : null,
    r2_days: days.length,
    r2_bytes: r2Bytes,
    transactions_archived: archivedTx,
    entries_archived: archivedEntries,
    r2_bytes_per_tx: archivedTx > 0 ? round(r2Bytes / archivedTx, 1) : null,
    job_rows_deleted: rows,
    job_ms: jobMs,
    job_ms_per_100k_rows: rows > 0 ? round((jobMs * 100_000) / rows) : null,
    job_ms_per_100k_tx: jobTx > 0 ? round((jobMs * 100_000) / jobTx) : null,
    // Under load: every run's rows (and transactions) over every run's own time, and each run's.
    job_rows_per_s_under_load: jobMs > 0 ? round((rows * 1000) / jobMs) : null,
    job_rows_per_s_range: range("rows_per_s"),
    job_tx_per_s_under_load: jobMs > 0 ? round((jobTx * 1000) / jobMs) : null,
    keeps_up_tx_per_s: jobMs > 0 ? round(keepsUp((jobTx * 1000) / jobMs)) : null,
    keeps_up_tx_per_s_range: range("keeps_up_tx_per_s"),
    job_under_load_share_min:
      jobs.length > 0 ? Math.min(...jobs.map((c) => c.job.under_load_share)) : null,
    // The load's answers over all cycles: before the job (the server warming up after its
    // restart), during it, and after it (the same load without the job).
    load_parts: Object.fromEntries(
      Object.entries(pooled).map(([name, part]) => [
        name,
        loadFigures(part.latencies, part.seconds),
      ]),
    ),
    load_errors: [...fill, ...cycles].reduce((sum, s) => sum + s.load.errors, 0),
  };
}

const kib = (bytes) => `${round(bytes / 1024, 1)} KiB`;

export function printSoak(soak, opts) {
  const s = soak.summary;
  const pct = (x) => (x === null ? "-" : `${round(x * 100, 1)}%`);
  const part = (p) => `${p.answers} answers, ${p.per_s ?? "-"} req/s, p99 ${p.p99_ms ?? "-"} ms`;
  console.log(
    `\nsoak: a fill of ${soak.window_days} day(s) (load, no job: the window must be full before a cycle is a steady-state day), then ${opts.cycles} cycles of ${opts.cycleTransactions} transactions over ${opts.players} players, each with the archive job (hourly cron ${HOURLY_CRON}, as of 00:45 the next day) fired after ${JOB_AFTER_SHARE * 100}% of its load; ${Object.entries(
      soak.vars,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}\n`,
  );
  console.log(
    "step     day         tx     D1 after: live / file / free           load: req/s, p99, errors   job under load: rows, ms, rows/s (load ran % of it)",
  );
  const row = (name, c, job) =>
    console.log(
      `${name.padEnd(7)}  ${c.day}  ${String(c.transactions).padEnd(5)}  ${`${kib(c.after.live_bytes)} / ${kib(c.after.file_bytes)} / ${kib(c.after.free_bytes)}`.padEnd(37)}  ${`${c.load.requests_per_s}, ${c.load.p99_ms} ms, ${c.load.errors}`.padEnd(25)}  ${job}`,
    );
  for (const [i, c] of soak.fill.entries()) row(`fill ${i + 1}`, c, "- (no job: the window fills)");
  for (const c of soak.cycles)
    row(
      String(c.cycle),
      c,
      `${c.job.rows_deleted}, ${c.job.duration_ms} ms, ${c.job.rows_per_s ?? "-"} rows/s (${pct(c.job.under_load_share)})`,
    );
  console.log("\nthe load of each cycle, before / during / after the job:");
  for (const c of soak.cycles)
    console.log(
      `  ${c.cycle}: ${part(c.load_parts.before)} / ${part(c.load_parts.during)} / ${part(c.load_parts.after)}`,
    );
  const lp = s.load_parts;
  console.log(
    `  all cycles: during the job ${part(lp.during)}; after it (the same load without it) ${part(lp.after)}; before it (warming up after the restart) ${part(lp.before)}; errors ${s.load_errors}`,
  );
  console.log(
    `\nD1 with players only: ${kib(soak.empty.live_bytes)}; per live transaction: ${s.d1_live_bytes_per_tx_fresh ?? "-"} B fresh (after the fill), ${s.d1_live_bytes_per_tx ?? "-"} B at the steady state (after the last cycle)`,
  );
  if (s.owner_rows > 0)
    console.log(
      `owner index: ${s.owner_rows} archived ids still owned in D1, ${s.owner_bytes_per_id} B per id`,
    );
  console.log(
    `R2: ${s.r2_days} days, ${s.r2_bytes} bytes for ${s.transactions_archived} transactions (${s.entries_archived} entries): ${s.r2_bytes_per_tx} B per transaction`,
  );
  console.log(
    `job: ${s.job_rows_deleted} rows deleted in ${s.job_ms} ms: ${s.job_ms_per_100k_rows} ms per 100,000 rows (${s.job_ms_per_100k_tx} ms per 100,000 transactions)`,
  );
  const span = (r) => (r ? `${r[0]}–${r[1]}` : "-");
  console.log(
    `archive rows/s under load: ${s.job_rows_per_s_under_load ?? "-"} (runs: ${span(s.job_rows_per_s_range)}), ${s.job_tx_per_s_under_load ?? "-"} transactions archived per second; the load ran for at least ${pct(s.job_under_load_share_min)} of each run`,
  );
  console.log(
    `keeping up: measured per run under load, × ${RUN_BUDGET_S} s per run × ${RUNS_PER_DAY} hourly runs a day: one database's archive keeps up with about ${s.keeps_up_tx_per_s ?? "-"} tx/s of sustained load (runs: ${span(s.keeps_up_tx_per_s_range)}), if a run keeps its rate for its whole budget`,
  );
  const verdict = s.bounded === null ? "n/a (no cycles)" : s.bounded ? "PASS" : "FAIL";
  console.log(
    `\ntarget: live D1 bytes after every cycle within ${SOAK_TOLERANCE * 100}% of the figure after cycle 1 (${s.live_bytes_after_cycle_1 === null ? "-" : kib(s.live_bytes_after_cycle_1)}): worst ${pct(s.worst_drift)}  ${verdict}`,
  );
  console.log(`reconciliation: ${soak.reconcile?.status ?? "not run"}`);
}
