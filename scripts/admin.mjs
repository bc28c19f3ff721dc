// `npm run -s admin -- <command> …`: the operator's calls to a running wallet's admin API without
// writing curl by hand. Prints the wallet's JSON answer (or the streamed export) on stdout; an
// error answer goes to stderr as the wallet wrote it, with exit status 1; a usage error exits 2.
// The token defaults to ADMIN_TOKEN from the environment or .dev.vars (npm start writes it).
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { readDevVars } from "./lib/dev-vars.mjs";

const USAGE = `usage: npm run -s admin -- <command> [options]

  player <player_id>                          the player, with balance and status
  transfer <player_id> in|out <amount>        move money into or out of the wallet
      [--id <transfer_id>] [--reason <text>]  (without --id a new id is made and printed;
                                               send the same id again to retry safely)
  status <player_id> active|suspended|closed  suspend, close or reopen a player
  revoke-sessions <player_id>                 end every token of the player
  lookup <transaction_id>                     what happened to a transaction or transfer
  report --from YYYY-MM-DD --to YYYY-MM-DD [--brand <brand_id>]
                                              the daily report (UTC days)
  export --from <ISO 8601> --to <ISO 8601> [--format ndjson|csv] [--out <file>]
                                              the ledger entries of a time range
  reconcile                                   balance = opening + archived + ledger, for every player
  reconcile-run                               the same, recorded as a manual run
  reconcile-last                              the last recorded run (the nightly one, or manual)
  archive                                     run the archive job now (what the Cron Trigger runs)
  archive-status                              days archived to R2, rows, bytes, last run, last error

  --url <url>           the wallet (default http://127.0.0.1:8787)
  --admin-token <token> default: ADMIN_TOKEN, or .dev.vars`;

const OPTIONS = {
  url: { type: "string", default: "http://127.0.0.1:8787" },
  "admin-token": { type: "string" },
  id: { type: "string" },
  reason: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  brand: { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
};

function usage(problem) {
  if (problem) console.error(`${problem}\n`);
  console.error(USAGE);
  process.exit(2);
}

/** Each command: how many words it takes, and the request it makes of them and the options. */
const COMMANDS = {
  player: { words: ["player_id"], request: ([id]) => ({ path: `/admin/players/${enc(id)}` }) },
  transfer: {
    words: ["player_id", "in|out", "amount"],
    request: ([id, direction, amount], options) => {
      if (direction !== "in" && direction !== "out")
        usage(`direction must be in or out, not ${direction}`);
      const transferId = options.id ?? `transfer-${randomUUID()}`;
      if (!options.id)
        console.error(`transfer_id ${transferId} (send --id ${transferId} to retry)`);
      // The amount goes as the decimal text typed, so the wallet reads it exactly.
      const body = { transfer_id: transferId, direction, amount, reason: options.reason };
      return { method: "POST", path: `/admin/players/${enc(id)}/transfers`, body };
    },
  },
  status: {
    words: ["player_id", "active|suspended|closed"],
    request: ([id, status]) => ({
      method: "PATCH",
      path: `/admin/players/${enc(id)}`,
      body: { status },
    }),
  },
  "revoke-sessions": {
    words: ["player_id"],
    request: ([id]) => ({ method: "DELETE", path: `/admin/players/${enc(id)}/sessions` }),
  },
  lookup: {
    words: ["transaction_id"],
    request: ([id]) => ({ path: `/admin/transactions/${enc(id)}` }),
  },
  report: {
    words: [],
    request: (_, options) => ({
      path: `/admin/reports/daily?${query({ from: need(options, "from"), to: need(options, "to"), brand_id: options.brand })}`,
    }),
  },
  export: {
    words: [],
    request: (_, options) => ({
      path: `/admin/ledger/export?${query({ from: need(options, "from"), to: need(options, "to"), format: options.format })}`,
      stream: true,
    }),
  },
  reconcile: { words: [], request: () => ({ path: "/admin/reconcile" }) },
  "reconcile-run": { words: [], request: () => ({ method: "POST", path: "/admin/reconcile/run" }) },
  "reconcile-last": { words: [], request: () => ({ path: "/admin/reconcile/last" }) },
  archive: {
    words: [],
    request: () => ({ method: "POST", path: "/admin/archive/run", body: {} }),
  },
  "archive-status": { words: [], request: () => ({ path: "/admin/archive" }) },
};

const enc = encodeURIComponent;

function need(options, name) {
  return options[name] ?? usage(`--${name} is required`);
}

function query(params) {
  return new URLSearchParams(Object.entries(params).filter(([, value]) => value !== undefined));
}

/** The answer's body as it came: on stdout (or --out) for a 2xx, on stderr otherwise. */
async function emit(response, request, options) {
  if (!response.ok) {
    console.error(`${response.status} ${await response.text()}`);
    return 1;
  }
  if (request.stream) {
    const sink = options.out ? createWriteStream(options.out) : process.stdout;
    await pipeline(Readable.fromWeb(response.body), sink, { end: Boolean(options.out) });
    return 0;
  }
  const text = await response.text();
  // Pretty-printed for a person; numbers keep their text (a balance of 10.50 stays 10.50).
  console.log(text.startsWith("{") ? prettyJson(text) : text);
  return 0;
}

/** JSON.stringify's indentation, without reading numbers as doubles on the way. */
function prettyJson(text) {
  return JSON.stringify(
    JSON.parse(text, (_key, value, context) =>
      typeof value === "number" ? JSON.rawJSON(context.source) : value,
    ),
    null,
    2,
  );
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS, allowPositionals: true });
  } catch (error) {
    usage(error.message);
  }
  const { values: options, positionals } = parsed;
  const [name, ...words] = positionals;
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (!name) usage();
  const command = COMMANDS[name] ?? usage(`unknown command ${name}`);
  if (words.length !== command.words.length)
    usage(`${name} takes ${command.words.join(" ") || "no words"}`);
  const request = command.request(words, options);
  const token = options["admin-token"] ?? process.env.ADMIN_TOKEN ?? readDevVars().ADMIN_TOKEN;
  if (!token) usage("no admin token: pass --admin-token, set ADMIN_TOKEN, or run npm start once");

  const headers = { authorization: `Bearer ${token}` };
  if (request.body) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(`${options.url}${request.path}`, {
      method: request.method ?? "GET",
      headers,
      body: request.body ? JSON.stringify(request.body) : undefined,
    });
  } catch (error) {
    console.error(`cannot reach ${options.url}: ${error.cause?.message ?? error.message}`);
    return 1;
  }
  return emit(response, request, options);
}

process.exitCode = await main();
