// `node bench/capacity.mjs [transactions] [--archive]`: the bytes one transaction costs in D1.
// Starts the wallet (wrangler dev, fresh local D1), sends that many signed transactions
// (Credit/Debit over 100 players), then reads the local D1 file with sqlite3's dbstat: bytes of
// every table and index, per transaction. The figures docs/capacity.md is built on. With
// --archive, the Cron Trigger is fired first as of 37 days later (Miniflare's scheduled endpoint),
// so the day is archived: what stays in D1 per archived id (archived_id_owners, docs/archive.md).
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalWallet } from "../scripts/lib/local-wallet.mjs";
import { createPlayers, playerId, runLoad, spread } from "./scenarios.mjs";

const TRANSACTIONS = Number(process.argv.slice(2).find((arg) => /^[0-9]+$/.test(arg)) ?? 5000);
const ARCHIVE = process.argv.includes("--archive");
const PLAYERS = 100;

function sqliteFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => path.endsWith(".sqlite") && path.includes("D1") && statSync(path).isFile());
}

const wallet = await startLocalWallet();
const copy = join(tmpdir(), `edge-wallet-capacity-${process.pid}.sqlite`);
try {
  await createPlayers({
    url: wallet.url,
    adminToken: wallet.adminToken,
    ids: Array.from({ length: PLAYERS }, (_, n) => playerId(n)),
  });
  const run = await runLoad({
    url: wallet.url,
    secret: wallet.secret,
    scenario: "capacity",
    pick: spread(PLAYERS),
    connections: 16,
    durationS: 600,
    maxRequests: TRANSACTIONS,
  });
  if (run.errors + run.non_2xx > 0)
    throw new Error(`transactions failed: ${run.failures.join(" | ")}`);
  if (ARCHIVE) {
    const timeMs = Date.now() + 37 * 86_400_000;
    const fired = await fetch(
      `${wallet.url}/cdn-cgi/handler/scheduled?cron=15+0+*+*+*&time=${timeMs}`,
    );
    if (!fired.ok) throw new Error(`the Cron Trigger answered ${fired.status}`);
  }
  const [file] = sqliteFiles(wallet.persistDir).sort((a, b) => statSync(b).size - statSync(a).size);
  if (!file) throw new Error(`no D1 file under ${wallet.persistDir}`);
  // VACUUM INTO: a consistent, compact copy (the live file may hold free pages and a WAL).
  execFileSync("sqlite3", [file, `VACUUM INTO '${copy}'`]);
  const query = (sql) => execFileSync("sqlite3", ["-json", copy, sql], { encoding: "utf8" });
  const sizes = JSON.parse(
    query(
      "SELECT name, SUM(pgsize) AS bytes, SUM(ncell) AS cells FROM dbstat GROUP BY name ORDER BY bytes DESC",
    ) || "[]",
  );
  const counts = JSON.parse(
    query(
      "SELECT (SELECT COUNT(*) FROM ledger_entries) AS ledger_entries, (SELECT COUNT(*) FROM transactions) AS transaction_ids, (SELECT COUNT(*) FROM archived_id_owners) AS archived_ids, (SELECT COUNT(*) FROM players) AS players",
    ) || "[{}]",
  )[0];
  const pageSize = Number(
    execFileSync("sqlite3", [copy, "PRAGMA page_size"], { encoding: "utf8" }).trim(),
  );
  const total = sizes.reduce((sum, row) => sum + row.bytes, 0);
  // What grows with transactions: their tables and every index on them (not players, sessions, schema).
  const perTransaction = sizes
    .filter((row) => /ledger_entries|transactions|cancellations|archived_id_owners/.test(row.name))
    .reduce((sum, row) => sum + row.bytes, 0);
  const ids = counts.transaction_ids + counts.archived_ids;
  const result = {
    transactions: run.requests,
    counts,
    page_size: pageSize,
    file_bytes: total,
    bytes_per_transaction: Math.round(perTransaction / ids),
    by_table_or_index: sizes.map((row) => ({
      ...row,
      bytes_per_transaction: Math.round((row.bytes / ids) * 10) / 10,
    })),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await wallet.stop();
  rmSync(copy, { force: true });
}
