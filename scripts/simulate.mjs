// `npm run simulate -- --url http://127.0.0.1:8787`: plays ThrillGate against a running wallet and
// checks each answer of the Standard Wallet API contract precisely (status, error code, balance
// text). Prints one line per scenario and a table, or with --json one JSON document; exits 1 if
// any scenario fails. Options: `npm run simulate -- --help`.
//
// It makes its own players through the admin API under a run-unique id prefix, so it can run any
// number of times against the same wallet (e.g. the one `npm start` runs) and every expected
// balance is exact. Also a module: runScenarios() is what test-node/simulate.test.ts calls.
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { currencyExponent } from "../src/money.ts";
import { readDevVars } from "./lib/dev-vars.mjs";
import { startFaultProxy } from "./lib/fault-proxy.mjs";
import {
  createThrillGateClient,
  definedOnly,
  THRILLGATE_POLICY,
} from "./lib/thrillgate-client.mjs";
import { errorResponseRules } from "./lib/wallet-definition.mjs";
import { OPENING_MINOR } from "./lib/scenario-words.mjs";
import { contractScenarios } from "./lib/scenarios-contract.mjs";
import { jackpotScenarios } from "./lib/scenarios-jackpot.mjs";

/** Where the proxy holds answers back, attempts time out after this (then ×2 per retry), not 10 s. */
const FAULT_TIMEOUT_MS = 500;

/** The two sets of error_response_rules the simulator plays: ThrillGate's defaults and the wallet's. */
export const RULE_SETS = { default: {}, wallet: errorResponseRules() };

// ---------------------------------------------------------------------------------------------
// What a scenario sees: the signed client, player creation, unique ids, money text, and checks.

function scenarioContext({ client, settings, runId, name, proxy, rules }) {
  const decimals = currencyExponent(settings.currency);
  const checks = [];
  let adminMs = 0;
  let retries = 0;
  let ids = 0;

  const t = {
    checks,
    adminMs: () => adminMs,
    // A retried call means the wallet answered 5xx or not at all: worth seeing even if it passed.
    retries: () => retries,

    /** Exact decimal text of `minor` units in the run's currency, computed here, not by the wallet. */
    money(minor) {
      const digits = String(minor).padStart(decimals + 1, "0");
      return decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
    },

    id(label) {
      ids += 1;
      return `${runId}_${name.replace(/\W+/g, "-")}_${label}${ids}`;
    },

    /** A new player of the run's operator, brand and currency, with a launch token. */
    async player(openingMinor = OPENING_MINOR) {
      const startedMs = performance.now();
      const id = t.id("player");
      const created = await client.admin("POST", "/admin/players", {
        player_id: id,
        operator_id: settings.operator,
        brand_id: settings.brand,
        currency: settings.currency,
        balance: t.money(openingMinor),
      });
      if (created.status !== 201)
        throw new Error(`creating a player failed: ${created.status} ${created.text}`);
      const session = await client.admin(
        "POST",
        `/admin/players/${encodeURIComponent(id)}/sessions`,
        {},
      );
      if (session.status !== 201)
        throw new Error(`creating a session failed: ${session.status} ${session.text}`);
      adminMs += performance.now() - startedMs;
      return { id, token: session.body.player_token };
    },

    url: settings.url,
    sign: client.sign,

    /**
     * ThrillGate as ThrillPots drives it (debit → cancel, credit → pending), under this scenario's
     * error_response_rules, through the fault proxy.
     */
    thrillgate: createThrillGateClient({
      ...settings,
      url: proxy.url,
      errorResponseRules: RULE_SETS[rules ?? settings.rules],
    }),
    /** The same with short time-outs, for the calls whose answers the proxy holds back. */
    impatientThrillgate: createThrillGateClient({
      ...settings,
      url: proxy.url,
      timeoutMs: settings.faultTimeoutMs,
      errorResponseRules: RULE_SETS[rules ?? settings.rules],
    }),
    proxy,

    /** Arms the wallet's own fault injection (POST /admin/faults); false where the wallet has none. */
    async walletFaults(plan) {
      const answer = await client.admin("POST", "/admin/faults", plan);
      if (answer.status === 404) return false;
      if (answer.status !== 200)
        throw new Error(`arming faults failed: ${answer.status} ${answer.text}`);
      return true;
    },

    /** How often the ledger applied and reversed `transactionId` for the player: "1 apply, 0 reverse". */
    async ledgerOf(playerId, transactionId) {
      const answer = await client.admin(
        "GET",
        `/admin/players/${encodeURIComponent(playerId)}/ledger?limit=500`,
      );
      const entries = (answer.body?.entries ?? []).filter(
        (e) => e.transaction_id === transactionId,
      );
      const count = (effect) => entries.filter((e) => e.effect === effect).length;
      return `${count("apply")} apply, ${count("reverse")} reverse`;
    },

    /** The usual last check of a failure path: GET /admin/reconcile finds nothing wrong. */
    async expectReconciled() {
      const answer = await client.admin("GET", "/admin/reconcile");
      t.ok("reconciliation exact", answer.body?.ok === true, answer.text);
    },

    async wallet(method, path, body, options) {
      const answer = await client.wallet(method, path, body, options);
      retries += answer.attempts - 1;
      return answer;
    },

    transaction(playerId, type, amountMinor, fields = {}) {
      return t.wallet(
        "POST",
        "/wallet/transaction",
        t.transactionItem(playerId, type, amountMinor, fields),
      );
    },

    transactionItem(playerId, type, amountMinor, fields = {}) {
      return {
        player_id: playerId,
        transaction_id: t.id("tx"),
        transaction_type: type,
        provider_id: "thrillpots",
        amount: t.money(amountMinor),
        currency: settings.currency,
        round_id: t.id("round"), // an extra field, as ThrillGate sends: kept, never refused
        ...fields,
      };
    },

    cancel(transactionId, playerId) {
      return t.wallet("DELETE", "/wallet/cancel", {
        transaction_id: transactionId,
        player_id: playerId,
      });
    },

    balance(playerId) {
      return t.wallet("GET", `/wallet/balance?player_id=${encodeURIComponent(playerId)}`);
    },

    /** Records one check: `label wanted` in the expected column, `label actual` in the got column. */
    expect(label, actual, wanted) {
      const shown = actual === undefined ? "missing" : clip(String(actual));
      const prefix = label ? `${label} ` : "";
      checks.push({
        pass: actual !== undefined && String(actual) === String(wanted),
        expected: `${prefix}${wanted}`,
        got: `${prefix}${shown}`,
      });
    },

    /** A yes/no check; when it fails the got column says `label: whyNot`. */
    ok(label, condition, whyNot = "no") {
      checks.push({
        pass: Boolean(condition),
        expected: label,
        got: condition ? label : `${label}: ${clip(String(whyNot))}`,
      });
    },

    /** The usual ending: the balance the wallet reports now is exactly `minor`. */
    async expectBalance(playerId, minor, label = "then balance") {
      t.expect(label, (await t.balance(playerId)).source?.balance, t.money(minor));
    },
  };
  return t;
}

const CLIP_CHARS = 160;

/** A failing check shows what came back, but a whole batch answer would drown the table. */
function clip(text) {
  return text.length > CLIP_CHARS ? `${text.slice(0, CLIP_CHARS)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// The scenarios, in the order they run: the contract (scripts/lib/scenarios-contract.mjs), then the
// jackpot round and its failure paths under each rule set (scripts/lib/scenarios-jackpot.mjs).

export const SCENARIOS = [
  ...contractScenarios(),
  ...jackpotScenarios("default"),
  ...jackpotScenarios("wallet"),
];

// ---------------------------------------------------------------------------------------------

/**
 * Runs the scenarios against the wallet at `url`; answers every scenario's result and the totals.
 * @param {{ url: string, secret: string, adminToken: string, operator?: string, brand?: string,
 *   currency?: string, rules?: "default" | "wallet", timeoutMs?: number, retries?: number,
 *   backoffFactor?: number, faultTimeoutMs?: number, onResult?: (result: object) => void }} options
 */
export async function runScenarios(options) {
  const settings = {
    operator: "thrilltech",
    brand: "brand1",
    currency: "EUR",
    rules: "default",
    faultTimeoutMs: FAULT_TIMEOUT_MS,
    ...definedOnly(options),
  };
  if (currencyExponent(settings.currency) === undefined)
    throw new Error(`unknown currency ${settings.currency}`);
  if (!Object.hasOwn(RULE_SETS, settings.rules))
    throw new Error(`rules must be ${Object.keys(RULE_SETS).join(" or ")}`);
  // The contract scenarios play ThrillGate under the chosen rules: by default every failed call is
  // retried, 4xx included, and a refusal must answer the same every time.
  const client = createThrillGateClient({
    ...settings,
    errorResponseRules: RULE_SETS[settings.rules],
  });
  const proxy = await startFaultProxy(settings.url.replace(/\/+$/, ""));
  try {
    return await runAll(options, settings, client, proxy);
  } finally {
    await proxy.stop();
  }
}

async function runAll(options, settings, client, proxy) {
  // Unique per run, so repeated runs against one wallet never meet each other's ids.
  const runId = `sim${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  await preflight(scenarioContext({ client, settings, runId, name: "preflight", proxy }));
  const results = [];
  for (const scenario of SCENARIOS) {
    const t = scenarioContext({
      client,
      settings,
      runId,
      name: scenario.name,
      proxy,
      rules: scenario.rules,
    });
    const startedMs = performance.now();
    let error;
    try {
      await scenario.run(t, settings);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const result = {
      scenario: scenario.name,
      expected: t.checks.map((c) => c.expected).join(", "),
      got: [...t.checks.map((c) => c.got), ...(error ? [`error: ${error}`] : [])].join(", "),
      pass: !error && t.checks.length > 0 && t.checks.every((c) => c.pass),
      // The wallet's time: the admin calls that set the scenario up are not counted.
      latency_ms: Math.round(performance.now() - startedMs - t.adminMs()),
      retries: t.retries(),
      rules: scenario.rules ?? settings.rules,
    };
    results.push(result);
    options.onResult?.(result);
  }
  const passed = results.filter((r) => r.pass).length;
  return {
    url: settings.url,
    run_id: runId,
    scenarios: results,
    totals: {
      scenarios: results.length,
      passed,
      failed: results.length - passed,
      latency_ms: results.reduce((sum, r) => sum + r.latency_ms, 0),
      retries: results.reduce((sum, r) => sum + r.retries, 0),
    },
  };
}

/**
 * A wrong URL, admin token or secret would fail every scenario for the same reason: say which
 * setting is wrong once, instead of eighteen times.
 */
async function preflight(t) {
  await t.wallet("GET", "/health").catch((error) => {
    throw new Error(`no wallet answers at ${t.url}: ${error.message}`);
  });
  const player = await t.player().catch((error) => {
    throw new Error(
      `the admin API refused to create a player (is --admin-token the wallet's ADMIN_TOKEN?): ${error.message}`,
    );
  });
  const answer = await t.balance(player.id);
  if (answer.status === 401)
    throw new Error(
      `the wallet refused our signature (is --secret the wallet's WALLET_HMAC_SECRET?): ${answer.text}`,
    );
}

const CELL_WIDTH = 44;

/** Breaks a cell after its ", " (between checks) and "; " (between batch items) to fit CELL_WIDTH. */
function wrap(text) {
  const lines = [""];
  for (const part of text.split(/(?<=, |; )/)) {
    const last = lines.length - 1;
    if (lines[last] && (lines[last] + part).trimEnd().length > CELL_WIDTH) lines.push(part);
    else lines[last] += part;
  }
  return lines.map((line) => line.replace(/[,;]? $/, ""));
}

function table(report) {
  const header = ["scenario", "expected", "got", "result", "ms"];
  const rows = report.scenarios.map((r) => [
    [r.scenario],
    wrap(r.expected),
    wrap(r.got),
    [r.pass ? "pass" : "FAIL"],
    [String(r.latency_ms)],
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.flatMap((row) => row[i].map((l) => l.length))),
  );
  const line = (cells) =>
    cells
      .map((cell, i) => (i === 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join(" | ")
      .trimEnd();
  const rowLines = (row) => {
    const height = Math.max(...row.map((cell) => cell.length));
    return Array.from({ length: height }, (_, n) => line(row.map((cell) => cell[n] ?? "")));
  };
  const { totals } = report;
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("-+-"),
    ...rows.flatMap(rowLines),
    "",
    `${totals.scenarios} scenarios: ${totals.passed} passed, ${totals.failed} failed (${totals.latency_ms} ms in the wallet) against ${report.url}`,
    ...(totals.retries
      ? [
          `${totals.retries} retried attempt(s) in the contract scenarios: failed answers sent again under the rules`,
        ]
      : []),
  ].join("\n");
}

const HELP = `npm run simulate -- [options]
  --url URL            the wallet (default http://127.0.0.1:8787)
  --secret S           HMAC secret (default WALLET_HMAC_SECRET from .dev.vars, else the environment)
  --admin-token T      admin token (default ADMIN_TOKEN from .dev.vars, else the environment)
  --operator ID        operator of the players it creates (default thrilltech)
  --brand ID           brand (default brand1)
  --currency CODE      currency (default EUR)
  --rules R            error_response_rules of the contract scenarios: default (ThrillGate's: every failed
                       call retried, 4xx included) or wallet (npm run thrillgate-config's); the jackpot
                       scenarios run under both
  --timeout-ms N       first attempt's timeout (default ${THRILLGATE_POLICY.timeoutMs}, ThrillGate's request_timeout)
  --retries N          request_retry_limit (default ${THRILLGATE_POLICY.retries})
  --backoff-factor N   request_retry_backoff: each retry's timeout is the last one's × N (default ${THRILLGATE_POLICY.backoffFactor})
  --fault-timeout-ms N first attempt's timeout in the failure paths that time out (default ${FAULT_TIMEOUT_MS})
  --json               print one JSON document (scenario results and totals) instead of the table
Exits 0 if every scenario passed, 1 if any failed, 2 on bad usage.`;

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "http://127.0.0.1:8787" },
      secret: { type: "string" },
      "admin-token": { type: "string" },
      operator: { type: "string" },
      brand: { type: "string" },
      currency: { type: "string" },
      "timeout-ms": { type: "string" },
      retries: { type: "string" },
      "backoff-factor": { type: "string" },
      "fault-timeout-ms": { type: "string" },
      rules: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const devVars = readDevVars();
  const secret = values.secret ?? devVars.WALLET_HMAC_SECRET ?? process.env.WALLET_HMAC_SECRET;
  const adminToken = values["admin-token"] ?? devVars.ADMIN_TOKEN ?? process.env.ADMIN_TOKEN;
  if (!secret || !adminToken) {
    console.error(
      "no HMAC secret or admin token: pass --secret and --admin-token, create .dev.vars (npm start does), or set WALLET_HMAC_SECRET and ADMIN_TOKEN",
    );
    return 2;
  }
  const number = (name) => {
    if (values[name] === undefined) return undefined;
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`--${name} must be a whole number ≥ 0`);
    return value;
  };
  // In --json mode stdout carries only the document; progress goes to stderr.
  const progress = values.json ? console.error : console.log;
  const report = await runScenarios({
    url: values.url,
    secret,
    adminToken,
    operator: values.operator,
    brand: values.brand,
    currency: values.currency,
    timeoutMs: number("timeout-ms"),
    retries: number("retries"),
    backoffFactor: number("backoff-factor"),
    faultTimeoutMs: number("fault-timeout-ms"),
    rules: values.rules,
    onResult: (r) =>
      progress(
        r.pass
          ? `pass  ${r.scenario} (${r.latency_ms} ms)`
          : `FAIL  ${r.scenario}: expected ${r.expected}; got ${r.got}`,
      ),
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : `\n${table(report)}`);
  return report.totals.failed === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
