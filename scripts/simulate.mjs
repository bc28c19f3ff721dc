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
import { createThrillGateClient, THRILLGATE_POLICY } from "./lib/thrillgate-client.mjs";

const OPENING_MINOR = 10_000; // every scenario's player starts at 100.00 (in a 2-decimal currency)
const CONCURRENT_DEBITS = 100;
const CONCURRENT_OPENING_MINOR = 5_000; // 50.00: room for exactly half of the concurrent 1.00 debits

// ---------------------------------------------------------------------------------------------
// What a scenario sees: the signed client, player creation, unique ids, money text, and checks.

function scenarioContext({ client, settings, runId, name }) {
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
      if (created.status !== 201) throw new Error(`creating a player failed: ${created.status} ${created.text}`);
      const session = await client.admin("POST", `/admin/players/${encodeURIComponent(id)}/sessions`, {});
      if (session.status !== 201) throw new Error(`creating a session failed: ${session.status} ${session.text}`);
      adminMs += performance.now() - startedMs;
      return { id, token: session.body.player_token };
    },

    url: settings.url,
    sign: client.sign,

    async wallet(method, path, body, options) {
      const answer = await client.wallet(method, path, body, options);
      retries += answer.attempts - 1;
      return answer;
    },

    transaction(playerId, type, amountMinor, fields = {}) {
      return t.wallet("POST", "/wallet/transaction", t.transactionItem(playerId, type, amountMinor, fields));
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
      return t.wallet("DELETE", "/wallet/cancel", { transaction_id: transactionId, player_id: playerId });
    },

    balance(playerId) {
      return t.wallet("GET", `/wallet/balance?player_id=${encodeURIComponent(playerId)}`);
    },

    /** Records one check: `label wanted` in the expected column, `label actual` in the got column. */
    expect(label, actual, wanted) {
      const shown = actual === undefined ? "missing" : clip(String(actual));
      const prefix = label ? `${label} ` : "";
      checks.push({ pass: actual !== undefined && String(actual) === String(wanted), expected: `${prefix}${wanted}`, got: `${prefix}${shown}` });
    },

    /** A yes/no check; when it fails the got column says `label: whyNot`. */
    ok(label, condition, whyNot = "no") {
      checks.push({ pass: Boolean(condition), expected: label, got: condition ? label : `${label}: ${clip(String(whyNot))}` });
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

/** "200", or the status and the error code of the spec's error shape ("402 INSUFFICIENT_FUNDS"). */
function outcome(answer) {
  if (answer.status >= 200 && answer.status < 300) return String(answer.status);
  const { code, message } = answer.body ?? {};
  if (typeof code !== "string" || typeof message !== "string") return `${answer.status} (not the error shape)`;
  return `${answer.status} ${code}`;
}

/** One batch item's result as "OK 90.00" or "ERROR INSUFFICIENT_FUNDS" (source text of the balance). */
function itemOutcome(result) {
  if (!result) return "missing";
  const status = JSON.parse(result.status ?? "null");
  return status === "OK" ? `OK ${result.balance}` : `${status} ${JSON.parse(result.error?.code ?? "null")}`;
}

/** The JSON text of a string, as parseSourceText keeps it: `"EUR"`. */
const quoted = (text) => JSON.stringify(text);

/**
 * A body whose amount is a JSON number with exactly the given text (JSON.stringify cannot write
 * 12.30 with its trailing zero). ThrillGate sends numbers; the other scenarios send decimal strings.
 */
function withNumberAmount(body) {
  const placeholder = "__amount__";
  return JSON.stringify({ ...body, amount: placeholder }).replace(quoted(placeholder), body.amount);
}

// ---------------------------------------------------------------------------------------------
// The scenarios, in the order they run. Each starts from its own fresh player(s) at 100.00.

export const SCENARIOS = [
  {
    name: "authenticate",
    async run(t, settings) {
      const p = await t.player();
      const a = await t.wallet("POST", "/wallet/authenticate", {
        operator_id: settings.operator,
        brand_id: settings.brand,
        player_token: p.token,
        source_id: "simulator",
        currency: settings.currency,
      });
      t.expect("", outcome(a), "200");
      t.ok("id", a.body?.id === p.id, a.text);
      t.ok("fresh token", typeof a.body?.token === "string" && a.body.token.length > 0 && a.body.token !== p.token, a.source?.token);
      t.expect("balance", a.source?.balance, t.money(OPENING_MINOR));
      t.expect("currency", a.source?.currency, quoted(settings.currency));
      t.ok("operator/brand", a.body?.operator_id === settings.operator && a.body?.brand_id === settings.brand, a.text);
      t.ok("segments", Array.isArray(a.body?.segments), a.source?.segments);
    },
  },
  {
    name: "authenticate unknown token",
    async run(t, settings) {
      const a = await t.wallet("POST", "/wallet/authenticate", {
        operator_id: settings.operator,
        brand_id: settings.brand,
        player_token: t.id("no-such-token"),
        source_id: "simulator",
        currency: settings.currency,
      });
      t.expect("", outcome(a), "401 INVALID_TOKEN");
    },
  },
  {
    name: "balance",
    async run(t) {
      const p = await t.player();
      const a = await t.balance(p.id);
      t.expect("", outcome(a), "200");
      t.expect("balance", a.source?.balance, t.money(OPENING_MINOR));
    },
  },
  {
    name: "balance unknown player",
    async run(t) {
      t.expect("", outcome(await t.balance(t.id("no-such-player"))), "404 PLAYER_NOT_FOUND");
    },
  },
  {
    name: "debit",
    async run(t, settings) {
      const p = await t.player();
      const body = t.transactionItem(p.id, "Debit", 1_234);
      const a = await t.wallet("POST", "/wallet/transaction", withNumberAmount(body));
      t.expect("", outcome(a), "200");
      t.ok("transaction_id", a.body?.transaction_id === body.transaction_id, a.source?.transaction_id);
      t.expect("balance", a.source?.balance, t.money(OPENING_MINOR - 1_234));
      t.expect("currency", a.source?.currency, quoted(settings.currency));
      await t.expectBalance(p.id, OPENING_MINOR - 1_234);
    },
  },
  {
    name: "credit",
    async run(t) {
      const p = await t.player();
      const a = await t.wallet("POST", "/wallet/transaction", withNumberAmount(t.transactionItem(p.id, "Credit", 550)));
      t.expect("", outcome(a), "200");
      t.expect("balance", a.source?.balance, t.money(OPENING_MINOR + 550));
      await t.expectBalance(p.id, OPENING_MINOR + 550);
    },
  },
  {
    // ThrillGate retries a call whose answer it did not get, sometimes while the first is still
    // running: every repeat must answer what the first answered and apply nothing again.
    name: "replayed debit",
    async run(t) {
      const p = await t.player();
      const body = t.transactionItem(p.id, "Debit", 1_000);
      const first = await t.wallet("POST", "/wallet/transaction", body);
      t.expect("", outcome(first), "200");
      t.expect("balance", first.source?.balance, t.money(OPENING_MINOR - 1_000));
      const replays = await Promise.all([1, 2, 3].map(() => t.wallet("POST", "/wallet/transaction", body)));
      const differing = replays.filter((r) => r.status !== first.status || r.text !== first.text);
      t.ok("3 concurrent replays answer the same", differing.length === 0, differing.map((r) => `${r.status} ${r.text}`).join(" "));
      await t.expectBalance(p.id, OPENING_MINOR - 1_000);
    },
  },
  {
    name: "same id, other amount",
    async run(t) {
      const p = await t.player();
      const body = t.transactionItem(p.id, "Debit", 1_000);
      t.expect("first", outcome(await t.wallet("POST", "/wallet/transaction", body)), "200");
      const other = await t.wallet("POST", "/wallet/transaction", { ...body, amount: t.money(2_000) });
      t.expect("again", outcome(other), "409 DUPLICATE_TRANSACTION");
      await t.expectBalance(p.id, OPENING_MINOR - 1_000);
    },
  },
  {
    name: "overdraft",
    async run(t) {
      const p = await t.player();
      const a = await t.transaction(p.id, "Debit", OPENING_MINOR + 1);
      t.expect("", outcome(a), "402 INSUFFICIENT_FUNDS");
      t.expect("balance", a.source?.balance, t.money(OPENING_MINOR));
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
  {
    // The cancel answer's balance is a decimal string, unlike every other endpoint's number.
    name: "cancel",
    async run(t) {
      const p = await t.player();
      const debit = t.transactionItem(p.id, "Debit", 1_000);
      t.expect("debit", outcome(await t.wallet("POST", "/wallet/transaction", debit)), "200");
      const a = await t.cancel(debit.transaction_id, p.id);
      t.expect("cancel", outcome(a), "200");
      t.expect("balance", a.source?.balance, quoted(t.money(OPENING_MINOR)));
      const again = await t.cancel(debit.transaction_id, p.id);
      t.expect("cancel again", `${outcome(again)} ${again.source?.balance}`, `200 ${quoted(t.money(OPENING_MINOR))}`);
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
  {
    // A cancel can overtake its original (ThrillGate gave up on the debit and voided the round):
    // the wallet answers it, then must never apply the original.
    name: "cancel before original",
    async run(t) {
      const p = await t.player();
      const debit = t.transactionItem(p.id, "Debit", 1_000);
      const a = await t.cancel(debit.transaction_id, p.id);
      t.expect("cancel", `${outcome(a)} ${a.source?.balance}`, `200 ${quoted(t.money(OPENING_MINOR))}`);
      t.expect("original", outcome(await t.wallet("POST", "/wallet/transaction", debit)), "409 TRANSACTION_CANCELLED");
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
  {
    // Two players interleaved: results come back in request order, each player's items decided in
    // order against its running balance, a failing item fails alone, and a retry answers the same.
    name: "batch",
    async run(t) {
      const a = await t.player();
      const b = await t.player();
      const items = [
        t.transactionItem(a.id, "Debit", 1_000),
        t.transactionItem(b.id, "Credit", 250),
        t.transactionItem(a.id, "Debit", 100_000),
        t.transactionItem(b.id, "Debit", 100),
        t.transactionItem(a.id, "Debit", 100),
      ];
      const wanted = [
        `OK ${t.money(9_000)}`,
        `OK ${t.money(10_250)}`,
        "ERROR INSUFFICIENT_FUNDS",
        `OK ${t.money(10_150)}`,
        `OK ${t.money(8_900)}`,
      ].join("; ");
      const body = { batch_id: t.id("batch"), transactions: items };
      const answer = await t.wallet("POST", "/wallet/transaction/batch", body);
      t.expect("", outcome(answer), "200");
      const results = answer.source?.results ?? [];
      t.expect("results", results.map(itemOutcome).join("; ") || "none", wanted);
      t.ok("in request order", items.every((item, i) => results[i]?.transaction_id === quoted(item.transaction_id)), answer.text);
      const retry = await t.wallet("POST", "/wallet/transaction/batch", body);
      const retried = (retry.source?.results ?? []).map(itemOutcome).join("; ");
      t.ok("a retry answers the same", retried === wanted, retried);
      await t.expectBalance(a.id, 8_900, "then balance A");
      await t.expectBalance(b.id, 10_150, "B");
    },
  },
  {
    name: "batch cancel",
    async run(t) {
      const p = await t.player();
      const items = [t.transactionItem(p.id, "Debit", 500), t.transactionItem(p.id, "Debit", 700)];
      const batch = await t.wallet("POST", "/wallet/transaction/batch", { batch_id: t.id("batch"), transactions: items });
      t.expect("batch", outcome(batch), "200");
      const answer = await t.wallet("DELETE", "/wallet/transaction/batch", {
        transactions: [{ transaction_id: items[0].transaction_id, player_id: p.id }, { transaction_id: items[1].transaction_id }],
      });
      t.expect("cancel", outcome(answer), "200");
      // Cancels are decided in order too: 88.00 + 5.00, then + 7.00. Balances are strings here.
      t.expect(
        "results",
        (answer.source?.results ?? []).map(itemOutcome).join("; ") || "none",
        `OK ${quoted(t.money(9_300))}; OK ${quoted(t.money(OPENING_MINOR))}`,
      );
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
  {
    name: "batch cancel by batch_id",
    async run(t) {
      const p = await t.player();
      const batchId = t.id("batch");
      const items = [t.transactionItem(p.id, "Debit", 500), t.transactionItem(p.id, "Debit", 700)];
      t.expect("batch", outcome(await t.wallet("POST", "/wallet/transaction/batch", { batch_id: batchId, transactions: items })), "200");
      const answer = await t.wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId });
      t.expect("cancel", outcome(answer), "200");
      const results = answer.body?.results ?? [];
      const cancelled = results.filter((r) => r.status === "OK").map((r) => r.transaction_id).sort();
      const batched = items.map((item) => item.transaction_id).sort();
      t.ok("both cancelled", results.length === 2 && cancelled.join() === batched.join(), answer.text);
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
  {
    // One player's operations are serialised: of 100 concurrent 1.00 debits on 50.00 exactly 50
    // succeed, each answering a different balance, and the rest are refused.
    name: "concurrent debits",
    async run(t) {
      const p = await t.player(CONCURRENT_OPENING_MINOR);
      const answers = await Promise.all(
        Array.from({ length: CONCURRENT_DEBITS }, () => t.transaction(p.id, "Debit", 100)),
      );
      const count = (text) => answers.filter((a) => outcome(a) === text).length;
      const others = answers.filter((a) => !["200", "402 INSUFFICIENT_FUNDS"].includes(outcome(a)));
      t.expect("200 ×", count("200"), CONCURRENT_OPENING_MINOR / 100);
      t.expect("402 INSUFFICIENT_FUNDS ×", count("402 INSUFFICIENT_FUNDS"), CONCURRENT_DEBITS - CONCURRENT_OPENING_MINOR / 100);
      t.ok("nothing else", others.length === 0, others.map(outcome).join(" "));
      const answered = answers.filter((a) => a.status === 200).map((a) => a.source?.balance).sort().join();
      const steps = Array.from({ length: CONCURRENT_OPENING_MINOR / 100 }, (_, i) => t.money(i * 100)).sort().join();
      t.ok("each balance answered once", answered === steps, answered);
      await t.expectBalance(p.id, 0);
    },
  },
  {
    name: "bad signature",
    async run(t, settings) {
      const p = await t.player();
      const body = t.transactionItem(p.id, "Debit", 100);
      const foreign = createThrillGateClient({ ...settings, secret: `${settings.secret}-not-ours` });
      t.expect("wrong key", outcome(await foreign.wallet("POST", "/wallet/transaction", body)), "401 INVALID_SIGNATURE");
      t.expect("no header", outcome(await t.wallet("POST", "/wallet/transaction", body, { signature: null })), "401 INVALID_SIGNATURE");
      // Our key, but over other bytes (the empty body): the signature covers the body it came with.
      const otherBody = await t.wallet("POST", "/wallet/transaction", body, { signature: await t.sign("") });
      t.expect("other body's", outcome(otherBody), "401 INVALID_SIGNATURE");
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
  {
    name: "malformed body",
    async run(t) {
      const p = await t.player();
      const truncated = JSON.stringify(t.transactionItem(p.id, "Debit", 100)).slice(0, -10);
      t.expect("", outcome(await t.wallet("POST", "/wallet/transaction", truncated)), "400 INVALID_REQUEST");
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
  {
    // Amounts are exact: more decimals than the currency has are refused, never rounded.
    name: "amount with too many decimals",
    async run(t) {
      const p = await t.player();
      const amount = `${t.money(100)}${t.money(100).includes(".") ? "" : "."}1`; // 1.001 in EUR
      const a = await t.wallet("POST", "/wallet/transaction", t.transactionItem(p.id, "Debit", 0, { amount }));
      t.expect(`amount ${amount}`, outcome(a), "400 INVALID_REQUEST");
      await t.expectBalance(p.id, OPENING_MINOR);
    },
  },
];

// ---------------------------------------------------------------------------------------------

/**
 * Runs the scenarios against the wallet at `url`; answers every scenario's result and the totals.
 * @param {{ url: string, secret: string, adminToken: string, operator?: string, brand?: string,
 *   currency?: string, timeoutMs?: number, retries?: number, backoffMs?: number,
 *   onResult?: (result: object) => void }} options
 */
export async function runScenarios(options) {
  const settings = { operator: "thrilltech", brand: "brand1", currency: "EUR", ...definedOnly(options) };
  if (currencyExponent(settings.currency) === undefined) throw new Error(`unknown currency ${settings.currency}`);
  const client = createThrillGateClient(settings);
  // Unique per run, so repeated runs against one wallet never meet each other's ids.
  const runId = `sim${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  await preflight(scenarioContext({ client, settings, runId, name: "preflight" }));
  const results = [];
  for (const scenario of SCENARIOS) {
    const t = scenarioContext({ client, settings, runId, name: scenario.name });
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
    throw new Error(`the admin API refused to create a player (is --admin-token the wallet's ADMIN_TOKEN?): ${error.message}`);
  });
  const answer = await t.balance(player.id);
  if (answer.status === 401) throw new Error(`the wallet refused our signature (is --secret the wallet's WALLET_HMAC_SECRET?): ${answer.text}`);
}

function definedOnly(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
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
  const rows = report.scenarios.map((r) => [[r.scenario], wrap(r.expected), wrap(r.got), [r.pass ? "pass" : "FAIL"], [String(r.latency_ms)]]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.flatMap((row) => row[i].map((l) => l.length))));
  const line = (cells) => cells.map((cell, i) => (i === 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ").trimEnd();
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
    ...(totals.retries ? [`${totals.retries} retried attempt(s): the wallet answered 5xx or timed out`] : []),
  ].join("\n");
}

const HELP = `npm run simulate -- [options]
  --url URL            the wallet (default http://127.0.0.1:8787)
  --secret S           HMAC secret (default WALLET_HMAC_SECRET from .dev.vars, else the environment)
  --admin-token T      admin token (default ADMIN_TOKEN from .dev.vars, else the environment)
  --operator ID        operator of the players it creates (default thrilltech)
  --brand ID           brand (default brand1)
  --currency CODE      currency (default EUR)
  --timeout-ms N       per-attempt timeout (default ${THRILLGATE_POLICY.timeoutMs}, ThrillGate's)
  --retries N          retries on network errors, timeouts and 5xx (default ${THRILLGATE_POLICY.retries}, ThrillGate's)
  --backoff-ms N       first wait before a retry, doubled each time (default ${THRILLGATE_POLICY.backoffMs}: 100, 200, 400 ms;
                       ThrillGate's own waits are seconds-scale)
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
      "backoff-ms": { type: "string" },
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
    console.error("no HMAC secret or admin token: pass --secret and --admin-token, create .dev.vars (npm start does), or set WALLET_HMAC_SECRET and ADMIN_TOKEN");
    return 2;
  }
  const number = (name) => {
    if (values[name] === undefined) return undefined;
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number ≥ 0`);
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
    backoffMs: number("backoff-ms"),
    onResult: (r) => progress(r.pass ? `pass  ${r.scenario} (${r.latency_ms} ms)` : `FAIL  ${r.scenario}: expected ${r.expected}; got ${r.got}`),
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
