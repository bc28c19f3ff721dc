// `npm start`: one command from a fresh clone to a running local wallet.
// Creates .dev.vars from the example, migrates every local D1 (the index and the shards), seeds
// the demo players on their shards, starts
// `wrangler dev` on 127.0.0.1:${PORT:-8787} (with /__scheduled, to fire the Cron Trigger's jobs)
// and prints signed requests to paste.
// `npm start -- --verbose` also shows wrangler's own output of the migration and seed steps.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { signBody } from "../src/auth/hmac.ts";
import { readDevVars } from "./lib/dev-vars.mjs";
import { homeShard } from "./lib/home-shard.mjs";
import {
  d1Bindings,
  LOCAL_DEV_FLAGS,
  ledgerShards,
  runWrangler,
  spawnWrangler,
} from "./lib/local-wallet.mjs";

const port = process.env.PORT ?? "8787";
const origin = `http://127.0.0.1:${port}`;

const DEMO_PLAYERS = 10;
const DEMO_BALANCE_MINOR = 100_000; // 1000.00 EUR

const verbose = process.argv.slice(2).includes("--verbose");

// The setup steps' own output (one JSON result block per seed statement) is kept for --verbose,
// and shown anyway when a step fails, so a newcomer sees one line per step.
function wrangler(args) {
  const result = runWrangler(args, {
    stdio: verbose ? "inherit" : ["inherit", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (result.status !== 0) {
    if (!verbose) process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}`);
    console.error(`wrangler ${args.join(" ")} failed`);
    process.exit(result.status ?? 1);
  }
}

function ensureDevVars() {
  if (!existsSync(".dev.vars")) {
    copyFileSync(".dev.vars.example", ".dev.vars");
    console.log("Created .dev.vars from .dev.vars.example (development secrets).");
  }
  return readDevVars();
}

// Idempotent: INSERT OR IGNORE leaves players and balances that already exist alone. Each player
// goes to its home shard (as the admin API places a new player) and into the index's directory;
// the tokens go to the index. Returns the SQL per D1 binding.
function seedSql() {
  const shards = ledgerShards();
  const sqlByBinding = new Map([["DB", []]]);
  const add = (binding, line) => {
    if (!sqlByBinding.has(binding)) sqlByBinding.set(binding, []);
    sqlByBinding.get(binding).push(line);
  };
  const nowMs = Date.now();
  for (let n = 1; n <= DEMO_PLAYERS; n++) {
    const suffix = String(n).padStart(5, "0");
    const player = `player_${suffix}`;
    const shard = homeShard(player, shards.length);
    add(
      shards[shard],
      `INSERT OR IGNORE INTO players (id, operator_id, brand_id, currency, balance_minor, opening_balance_minor, nickname, segments, created_at_ms) ` +
        `VALUES ('${player}', 'thrilltech', 'brand1', 'EUR', ${DEMO_BALANCE_MINOR}, ${DEMO_BALANCE_MINOR}, 'Demo ${n}', '[]', ${nowMs});`,
    );
    add(
      "DB",
      `INSERT OR IGNORE INTO player_directory (player_id, shard, operator_id, brand_id, created_at_ms) ` +
        `VALUES ('${player}', ${shard}, 'thrilltech', 'brand1', ${nowMs});`,
    );
    // Demo tokens never expire (null expiry), so the printed example keeps working.
    add(
      "DB",
      `INSERT OR IGNORE INTO sessions (token, player_id, operator_id, brand_id, currency, expires_at_ms, created_at_ms) ` +
        `VALUES ('token_${suffix}', '${player}', 'thrilltech', 'brand1', 'EUR', NULL, ${nowMs});`,
    );
  }
  return sqlByBinding;
}

async function waitForHealth(child) {
  for (let attempt = 0; attempt < 240; attempt++) {
    if (child.exitCode !== null) process.exit(child.exitCode);
    try {
      const response = await fetch(`${origin}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the wallet did not answer ${origin}/health in 120 s`);
}

async function printExamples(secret) {
  const body = JSON.stringify({
    operator_id: "thrilltech",
    brand_id: "brand1",
    player_token: "token_00001",
    source_id: "game1",
    currency: "EUR",
  });
  console.log(`
edge-wallet is running on ${origin}  (Ctrl-C stops it)
Operator console: ${origin}/console  (sign in with ADMIN_TOKEN from .dev.vars)
Demo players player_00001…player_${String(DEMO_PLAYERS).padStart(5, "0")} (EUR 1000.00), tokens token_00001…, operator thrilltech, brand brand1.

Authenticate player_00001 (signed with WALLET_HMAC_SECRET from .dev.vars):
  curl -sS -X POST ${origin}/wallet/authenticate \\
    -H 'Content-Type: application/json' \\
    -H 'X-Server-Authorization: ${await signBody(body, secret)}' \\
    --data-raw '${body}'

Balance of player_00001 (the signature of the empty body):
  curl -sS '${origin}/wallet/balance?player_id=player_00001' \\
    -H 'X-Server-Authorization: ${await signBody("", secret)}'

Run the Cron Trigger's nightly jobs now (the archive, then reconciliation), then read the run it recorded:
  curl -sS '${origin}/__scheduled?cron=15+0+*+*+*'
  npm run -s admin -- reconcile-last --url ${origin}
`);
}

const vars = ensureDevVars();
const bindings = d1Bindings();
for (const binding of bindings) wrangler(["d1", "migrations", "apply", binding, "--local"]);
console.log(`Local D1 migrated (.wrangler/): ${bindings.join(", ")}.`);
mkdirSync(".wrangler", { recursive: true });
for (const [binding, lines] of seedSql()) {
  const file = `.wrangler/seed-${binding}.sql`;
  writeFileSync(file, `${lines.join("\n")}\n`);
  wrangler(["d1", "execute", binding, "--local", "--file", file]);
}
console.log(
  `Seeded ${DEMO_PLAYERS} demo players (existing players and balances are left as they are).`,
);

// --test-scheduled: GET /__scheduled?cron=… runs the Cron Trigger's handler (the archive job, then
// the reconciliation) now; wrangler drops its time=, so a run as of another time goes through
// Miniflare's /cdn-cgi/handler/scheduled?cron=…&time=<epoch ms> (docs/archive.md). Local only.
const dev = spawnWrangler(
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    port,
    ...LOCAL_DEV_FLAGS,
    "--show-interactive-dev-session=false",
  ],
  {
    stdio: ["inherit", "inherit", "inherit"],
  },
);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => dev.kill(signal));
}
dev.on("exit", (code) => process.exit(code ?? 0));

await waitForHealth(dev);
await printExamples(vars.WALLET_HMAC_SECRET);
