// `npm run bench -- --soak`: does D1 stay bounded while the wallet runs for days? N cycles, each
// one "day": a load of signed transactions (random UUID ids, as ThrillGate sends), then the archive
// job as the Cron Trigger runs it at 00:15 of the next day (Miniflare's scheduled endpoint with
// time=, see runJobAt), with LEDGER_RETENTION_DAYS=1, so each run archives the day before the
// cycle's own and D1 holds one day of load. After every cycle it reads the persisted D1 file with
// sqlite3: live bytes, (page_count − freelist_count) × page_size, since SQLite never shrinks a file
// on delete (freed pages go to the freelist and are reused). Target: live bytes after every cycle
// within 10% of the first cycle at the window (the first whose run archived a day; see summarize).
// Also: R2 bytes per archived transaction (GET /admin/archive) and the job's time per 100,000 rows
// (its own duration_ms in archive_runs).
//
// Time: the wallet stamps rows with the real clock, so every cycle's rows would fall in today,
// and a closed day gets no new rows in a real deployment. So between the load and the job the
// soak stops the server and moves the cycle's rows forward by whole days in the D1 file (cycle k's
// rows to day D0 + k − 1, D0 = the soak's first day): the only write made outside the wallet, to
// the three tables the job archives by created_at_ms. It also moves their two time-index entries,
// churn a real day does not have (bench/README.md, "Soak"). A cycle that runs across midnight UTC
// is split over two days, and the days-archived check fails: run it again.
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, runWrangler, spawnWrangler } from "../scripts/lib/local-wallet.mjs";
import { createPlayers, playerId, reconcile, runLoad, spread } from "./scenarios.mjs";

const MS_PER_DAY = 86_400_000;
/** wrangler.toml's Cron Trigger: the job runs at 00:15 UTC. */
const CRON = "15 0 * * *";
const CRON_AFTER_MIDNIGHT_MS = 15 * 60_000;
/** Live D1 bytes after every cycle within this share of the figure after the first. */
export const SOAK_TOLERANCE = 0.1;
/** One day of live ledger, and ids forgotten by D1 with it (the smallest windows the job takes). */
const SOAK_VARS = { LEDGER_RETENTION_DAYS: "1", TRANSACTION_ID_RETENTION_DAYS: "1" };
/** The tables the job archives by created_at_ms. */
const TIMED_TABLES = ["ledger_entries", "transactions", "cancellations"];

const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

function sqlite(file, text) {
  const out = execFileSync("sqlite3", ["-json", file, text], { encoding: "utf8" });
  return out.trim() ? JSON.parse(out) : [];
}

/** The D1 database file wrangler dev persists under `persistDir` (not Miniflare's metadata file). */
function d1File(persistDir) {
  const dir = join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one D1 file in ${dir}, found ${files}`);
  return join(dir, files[0]);
}

/**
 * What D1 holds: live bytes ((page_count − freelist_count) × page_size), the file's bytes, and the
 * bytes of each table and index (dbstat: its pages, used or not). Read from a copy of the file and
 * its WAL, so that sqlite3 never checkpoints or removes the WAL under a running workerd; the copy
 * is consistent because the wallet is idle when it is taken.
 */
function d1Figures(persistDir) {
  const file = d1File(persistDir);
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
              (SELECT COUNT(*) FROM archived_id_owners) AS archived_id_owners`,
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
      },
      bytes_by_table_or_index: byName,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Moves the rows created in [fromMs, toMs] by `days` whole days (forward, or back if the soak
 * began the day before), in the D1 file of a stopped server (see the top of this file). Returns the
 * id rows moved: the cycle's transactions.
 */
function moveRows(persistDir, fromMs, toMs, days) {
  const file = d1File(persistDir);
  const inCycle = `created_at_ms BETWEEN ${fromMs} AND ${toMs}`;
  const [{ n }] = sqlite(file, `SELECT COUNT(*) AS n FROM transactions WHERE ${inCycle}`);
  if (days !== 0) {
    const updates = TIMED_TABLES.map(
      (table) =>
        `UPDATE ${table} SET created_at_ms = created_at_ms + ${days * MS_PER_DAY} WHERE ${inCycle};`,
    );
    sqlite(file, `BEGIN; ${updates.join(" ")} COMMIT;`);
  }
  return n;
}

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
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => chunk.split("\n").filter(Boolean).forEach(log));
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = (signal) => {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        kill("SIGKILL");
        resolve();
      }, 10_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      kill("SIGTERM");
    });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
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
 * The Cron Trigger's handler as of `timeMs`. Through Miniflare's trigger endpoint, which wrangler
 * dev always serves locally: wrangler 4.164's `--test-scheduled` `/__scheduled` passes the cron on
 * but drops `time=` (its middleware dispatches `{ cron }` only), so the job would run as of now.
 */
async function runJobAt(server, timeMs) {
  const started = performance.now();
  const response = await fetch(
    `${server.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON)}&time=${timeMs}`,
  );
  const text = await response.text();
  if (!response.ok) throw new Error(`/cdn-cgi/handler/scheduled: ${response.status} ${text}`);
  return round(performance.now() - started);
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
  const firstDay = Math.floor(Date.now() / MS_PER_DAY);
  const soak = { vars: { ...SOAK_VARS, ...opts.vars }, first_day_ms: firstDay * MS_PER_DAY };
  const cycles = [];
  const failures = [];
  let server;
  const start = async () => {
    progress("soak: starting the wallet (wrangler dev)…");
    server = await startServer({ config, persistDir, vars, log });
    track(server);
    return server;
  };
  try {
    progress("soak: migrating a fresh local D1");
    const migrate = runWrangler(
      [
        "d1",
        "migrations",
        "apply",
        "DB",
        "--local",
        "--config",
        config,
        "--persist-to",
        persistDir,
      ],
      { env: { NO_COLOR: "1" }, encoding: "utf8" },
    );
    if (migrate.status !== 0)
      throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
    await start();
    const ids = Array.from({ length: opts.players }, (_, n) => playerId(n));
    progress(`soak: creating ${ids.length} players`);
    await createPlayers({ url: server.url, adminToken, ids });
    soak.empty = d1Figures(persistDir);

    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      const day = firstDay + cycle - 1;
      progress(
        `soak: cycle ${cycle} of ${opts.cycles}: ${opts.cycleTransactions} transactions over ${opts.players} players`,
      );
      const fromMs = Date.now();
      const load = await runLoad({
        url: server.url,
        secret,
        scenario: `soak ${cycle}`,
        pick: spread(opts.players),
        connections: opts.connections,
        durationS: 3600,
        maxRequests: opts.cycleTransactions,
        idOf: () => randomUUID(),
      });
      if (load.errors + load.non_2xx > 0)
        failures.push(
          `cycle ${cycle} load: ${load.errors} errors, ${load.non_2xx} non-2xx; ${load.failures.join(" | ")}`,
        );
      await server.stop();
      const toMs = Date.now();
      const moved = moveRows(persistDir, fromMs, toMs, day - Math.floor(fromMs / MS_PER_DAY));
      const afterLoad = d1Figures(persistDir);

      await start();
      const jobTimeMs = (day + 1) * MS_PER_DAY + CRON_AFTER_MIDNIGHT_MS;
      progress(`soak: cycle ${cycle}: the archive job as of ${new Date(jobTimeMs).toISOString()}`);
      const wallMs = await runJobAt(server, jobTimeMs);
      const status = await adminGet(server, adminToken, "/admin/archive");
      const run = status.last_run;
      if (!run || run.now !== new Date(jobTimeMs).toISOString())
        failures.push(`cycle ${cycle}: the job recorded no run as of its time (${run?.now})`);
      else if (run.error !== null) failures.push(`cycle ${cycle}: the job failed: ${run.error}`);
      const afterArchive = d1Figures(persistDir);
      cycles.push({
        cycle,
        day: new Date(day * MS_PER_DAY).toISOString().slice(0, 10),
        transactions: moved,
        requests_per_s: round(load.requests_per_s),
        job: {
          now: run?.now ?? null,
          days_archived: run?.days_archived ?? null,
          rows_deleted: run?.rows_deleted ?? null,
          duration_ms: run?.duration_ms ?? null,
          wall_ms: wallMs,
        },
        after_load: afterLoad,
        after_archive: afterArchive,
      });
      // The window's days stay live (cycle 1's, with a one-day window); each later run archives one.
      const expected = Math.max(0, cycle - Number(vars.LEDGER_RETENTION_DAYS));
      const archivedDays = status.days.filter((d) => d.status === "archived").length;
      if (archivedDays !== expected)
        failures.push(`cycle ${cycle}: ${archivedDays} days archived, expected ${expected}`);
    }
    soak.reconcile = await reconcile({ url: server.url, adminToken });
    if (soak.reconcile.status !== "ok")
      failures.push(`reconciliation: ${JSON.stringify(soak.reconcile.detail).slice(0, 500)}`);
    soak.archive = await adminGet(server, adminToken, "/admin/archive");
  } finally {
    await server?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  }
  soak.cycles = cycles;
  soak.job_log_lines = jobLines;
  soak.summary = summarize(soak, cycles);
  soak.failures = failures;
  return soak;
}

/** The largest share by which a cycle's live bytes differ from the first's (null: no cycles). */
function drift(cycles) {
  if (cycles.length === 0) return null;
  const first = cycles[0].after_archive.live_bytes;
  return round(
    Math.max(...cycles.map((c) => Math.abs(c.after_archive.live_bytes - first) / first)),
    4,
  );
}

function summarize(soak, cycles) {
  // D1 holds its window from the first cycle whose job archived a day (cycle 2 with a window of one
  // day). Before it, D1 has only filled: a fresh database's pages hold only rows inserted, none
  // freed, so the index pages not ordered by time (ids, players) are fuller than they ever are
  // again. The target is judged from the window on; the drift against cycle 1 is printed too.
  const from = cycles.findIndex((c) => c.job.days_archived > 0);
  const atWindow = from < 0 ? [] : cycles.slice(from);
  const worst = drift(atWindow);
  const first = cycles[0]?.after_archive.live_bytes;
  const days = soak.archive?.days ?? [];
  const archivedTx = days.reduce((sum, d) => sum + d.id_rows, 0);
  const archivedEntries = days.reduce((sum, d) => sum + d.entry_rows, 0);
  const r2Bytes = days.reduce((sum, d) => sum + d.bytes, 0);
  const jobs = cycles.filter((c) => c.job.rows_deleted > 0);
  const rows = jobs.reduce((sum, c) => sum + c.job.rows_deleted, 0);
  const jobMs = jobs.reduce((sum, c) => sum + c.job.duration_ms, 0);
  const liveTx = cycles[0]?.transactions;
  const owners = cycles.at(-1)?.after_archive;
  const ownerRows = owners?.rows.archived_id_owners ?? 0;
  const ownerBytes = ["archived_id_owners", "archived_id_owners_day_idx"].reduce(
    (sum, name) => sum + (owners?.bytes_by_table_or_index[name] ?? 0),
    0,
  );
  return {
    live_bytes_after_cycle_1: first ?? null,
    window_from_cycle: atWindow[0]?.cycle ?? null,
    live_bytes_at_window: atWindow[0]?.after_archive.live_bytes ?? null,
    worst_drift: worst,
    bounded: worst === null ? null : worst <= SOAK_TOLERANCE,
    drift_from_cycle_1: drift(cycles),
    // What one live transaction costs D1: cycle 1's rows over the database with players only.
    d1_live_bytes_per_tx: liveTx > 0 ? round((first - soak.empty.live_bytes) / liveTx) : null,
    d1_live_bytes_per_tx_at_window:
      atWindow.length > 0 && liveTx > 0
        ? round((atWindow.at(-1).after_archive.live_bytes - soak.empty.live_bytes) / liveTx)
        : null,
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
    job_ms_per_100k_tx: archivedTx > 0 ? round((jobMs * 100_000) / archivedTx) : null,
  };
}

const kib = (bytes) => `${round(bytes / 1024, 1)} KiB`;

export function printSoak(soak, opts) {
  const s = soak.summary;
  console.log(
    `\nsoak: ${opts.cycles} cycles of ${opts.cycleTransactions} transactions over ${opts.players} players, each followed by the archive job at 00:15 of the next day; ${Object.entries(
      soak.vars,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}\n`,
  );
  console.log(
    "cycle  day         tx     after load: live / file      after archive: live / file / free   job: rows deleted, ms",
  );
  for (const c of soak.cycles) {
    console.log(
      `${String(c.cycle).padEnd(5)}  ${c.day}  ${String(c.transactions).padEnd(5)}  ${`${kib(c.after_load.live_bytes)} / ${kib(c.after_load.file_bytes)}`.padEnd(27)}  ${`${kib(c.after_archive.live_bytes)} / ${kib(c.after_archive.file_bytes)} / ${kib(c.after_archive.free_bytes)}`.padEnd(34)}  ${c.job.rows_deleted}, ${c.job.duration_ms} ms (wall ${c.job.wall_ms} ms)`,
    );
  }
  console.log(
    `\nD1 with players only: ${kib(soak.empty.live_bytes)}; per live transaction: ${s.d1_live_bytes_per_tx} B after cycle 1, ${s.d1_live_bytes_per_tx_at_window ?? "-"} B at the window (last cycle)`,
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
  const verdict = s.bounded === null ? "n/a (no job archived a day)" : s.bounded ? "PASS" : "FAIL";
  const pct = (x) => (x === null ? "-" : `${round(x * 100, 1)}%`);
  console.log(
    `\ntarget: live D1 bytes after every cycle within ${SOAK_TOLERANCE * 100}% of the first at the window (cycle ${s.window_from_cycle ?? "-"}, ${s.live_bytes_at_window === null ? "-" : kib(s.live_bytes_at_window)}): worst ${pct(s.worst_drift)}  ${verdict}`,
  );
  console.log(
    `  (against cycle 1, before any day left D1 (${kib(s.live_bytes_after_cycle_1)}): worst ${pct(s.drift_from_cycle_1)}, for information: a fresh database's id and player index pages are fuller than at any later time; bench/README.md, "Soak")`,
  );
  console.log(`reconciliation: ${soak.reconcile?.status ?? "not run"}`);
}
