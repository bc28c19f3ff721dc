// `npm run reconcile -- [--url http://127.0.0.1:8787] [--admin-token T] [--archive]`: asks a running
// wallet to prove invariant 5 (balance = opening + archived totals + ledger, one applying and at
// most one reversing entry per id) and prints what disagrees. With --archive it also re-reads every
// archived part in R2 (digests, rows, sums against the archived totals). Exits 1 if anything disagrees. The token defaults to ADMIN_TOKEN from
// the environment or .dev.vars.
import { parseArgs } from "node:util";
import { readDevVars } from "./lib/dev-vars.mjs";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787" },
    "admin-token": { type: "string" },
    archive: { type: "boolean", default: false },
  },
});
const token = values["admin-token"] ?? process.env.ADMIN_TOKEN ?? readDevVars().ADMIN_TOKEN;
if (!token) {
  console.error(
    "no admin token: pass --admin-token, set ADMIN_TOKEN, or create .dev.vars (npm start does)",
  );
  process.exit(2);
}

const response = await fetch(
  `${values.url}/admin/reconcile${values.archive ? "?archive=true" : ""}`,
  {
    headers: { authorization: `Bearer ${token}` },
  },
);
if (!response.ok) {
  console.error(`reconcile answered ${response.status}: ${await response.text()}`);
  process.exit(2);
}
const report = await response.json();
console.log(
  `players checked: ${report.players_checked}, transactions checked: ${report.transactions_checked} (transfers: ${report.transfers_checked})`,
);
for (const m of report.balance_mismatches) {
  console.log(
    `player ${m.player_id}: balance ${m.balance_minor} minor units, ledger says ${m.expected_minor}`,
  );
}
for (const p of report.transaction_problems) {
  console.log(
    `transaction ${p.transaction_id} (${p.status ?? "no row"}): ${p.applying_entries} applying, ${p.reversing_entries} reversing entries`,
  );
}
if (report.archive) {
  console.log(
    `archive: ${report.archive.days_checked} days, ${report.archive.parts_checked} parts, ${report.archive.entries_checked} entries re-read from R2`,
  );
  for (const problem of report.archive.problems) console.log(`archive: ${problem}`);
}
console.log(report.ok ? "reconciliation: exact" : "reconciliation: DISAGREES");
process.exit(report.ok ? 0 : 1);
