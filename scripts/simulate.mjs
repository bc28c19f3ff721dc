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
import { createThrillGateClient, THRILLGATE_POLICY } from "./lib/thrillgate-client.mjs";
import { errorResponseRules } from "./lib/wallet-definition.mjs";

const OPENING_MINOR = 10_000; // every scenario's player starts at 100.00 (in a 2-decimal currency)
const CONCURRENT_DEBITS = 100;
const CONCURRENT_OPENING_MINOR = 5_000; // 50.00: room for exactly half of the concurrent 1.00 debits
const CONTRIBUTION_MINOR = 100; // a jackpot round's Debit: 1.00
const WIN_MINOR = 2_500; // its Credit when the round wins: 25.00
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
      if (created.status !== 201) throw new Error(`creating a player failed: ${created.status} ${created.text}`);
      const session = await client.admin("POST", `/admin/players/${encodeURIComponent(id)}/sessions`, {});
      if (session.status !== 201) throw new Error(`creating a session failed: ${session.status} ${session.text}`);
      adminMs += performance.now() - startedMs;
      return { id, token: session.body.player_token };
    },

    url: settings.url,
    sign: client.sign,

    /**
     * ThrillGate as ThrillPots drives it (debit → cancel, credit → pending), under this scenario's
     * error_response_rules, through the fault proxy.
     */
    thrillgate: createThrillGateClient({ ...settings, url: proxy.url, errorResponseRules: RULE_SETS[rules ?? settings.rules] }),
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
      if (answer.status !== 200) throw new Error(`arming faults failed: ${answer.status} ${answer.text}`);
      return true;
    },

    /** How often the ledger applied and reversed `transactionId` for the player: "1 apply, 0 reverse". */
    async ledgerOf(playerId, transactionId) {
      const answer = await client.admin("GET", `/admin/players/${encodeURIComponent(playerId)}/ledger?limit=500`);
      const entries = (answer.body?.entries ?? []).filter((e) => e.transaction_id === transactionId);
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
// The jackpot round as ThrillPots plays it, and its failure paths: authenticate, a Debit (the
// contribution, which opens the round), a Credit (the win, possibly 0, which closes it). A failed
// Debit is cancelled unless its rule says must_cancel false; a failed Credit goes pending and is
// sent again until accepted. Each runs under ThrillGate's default rules and under the wallet's.

/** authenticate, then the round's Debit and Credit bodies (same round id, the session token kept). */
async function openRound(t, settings, player, contributionMinor = CONTRIBUTION_MINOR) {
  const auth = await t.thrillgate.wallet("POST", "/wallet/authenticate", {
    operator_id: settings.operator,
    brand_id: settings.brand,
    player_token: player.token,
    source_id: "thrillpots",
    currency: settings.currency,
  });
  t.expect("authenticate", outcome(auth), "200");
  const round = { round_id: t.id("round"), jackpot_id: "jp-mega", token: auth.body?.token };
  return {
    debit: t.transactionItem(player.id, "Debit", contributionMinor, round),
    credit: (winMinor) => t.transactionItem(player.id, "Credit", winMinor, round),
  };
}

function jackpotScenarios(rules) {
  const label = rules === "default" ? "ThrillGate's default rules" : "the wallet's rules";
  const scenarios = [
    {
      name: "jackpot round, won",
      async run(t, settings) {
        const p = await t.player();
        const round = await openRound(t, settings, p);
        const debit = await t.thrillgate.debit(round.debit);
        t.expect("debit", `${debit.outcome} ${debit.debit.source?.balance}`, `applied ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR)}`);
        const credit = await t.thrillgate.credit(round.credit(WIN_MINOR));
        t.expect("credit", `${credit.outcome} ${credit.credit.source?.balance}`, `applied ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR)}`);
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR);
        await t.expectReconciled();
      },
    },
    {
      // The round closes with a Credit of 0 (must_close_gamerounds with accept_zero_value_credits).
      name: "jackpot round, no win",
      async run(t, settings) {
        const p = await t.player();
        const round = await openRound(t, settings, p);
        t.expect("debit", (await t.thrillgate.debit(round.debit)).outcome, "applied");
        const credit = await t.thrillgate.credit(round.credit(0));
        t.expect("credit 0", `${credit.outcome} ${credit.credit.source?.balance}`, `applied ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR)}`);
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR);
        await t.expectReconciled();
      },
    },
    {
      // Default rules: the 402 is retried 3 times, then the Debit is cancelled. The wallet's rules:
      // one attempt, no cancel. Either way nothing moves, and a late copy of the Debit, after the
      // money has arrived, is still refused: the wallet told ThrillGate no.
      name: "jackpot debit refused",
      async run(t, settings) {
        const p = await t.player(CONTRIBUTION_MINOR / 2);
        const round = await openRound(t, settings, p);
        const result = await t.thrillgate.debit(round.debit);
        const retried = rules === "default";
        t.expect("debit", `${outcome(result.debit)} ×${result.debit.attempts}`, `402 INSUFFICIENT_FUNDS ×${retried ? 4 : 1}`);
        t.expect("then", result.outcome, retried ? "cancelled" : "failed");
        if (retried) t.expect("cancel", `${outcome(result.cancel)} ${result.cancel?.source?.balance}`, `200 ${quoted(t.money(CONTRIBUTION_MINOR / 2))}`);
        await t.expectBalance(p.id, CONTRIBUTION_MINOR / 2);
        t.expect("top-up", outcome(await t.transaction(p.id, "Credit", OPENING_MINOR)), "200");
        const late = await t.wallet("POST", "/wallet/transaction", round.debit, { retry: false });
        t.ok("late copy not applied", late.status !== 200, `${late.status} ${late.text}`);
        await t.expectBalance(p.id, CONTRIBUTION_MINOR / 2 + OPENING_MINOR, "then balance");
        t.expect("ledger", await t.ledgerOf(p.id, round.debit.transaction_id), "0 apply, 0 reverse");
        await t.expectReconciled();
      },
    },
    {
      // Every answer of the Debit is lost on the way back, so each attempt times out. The first
      // attempt reaches the wallet only as its time-out expires, together with the retry sent at
      // once: the two race inside the wallet, which applies the Debit once. After the last attempt
      // ThrillGate cancels it; the cancel reverses it once; a late copy applies nothing.
      name: "jackpot debit answers lost (time-outs), then cancelled",
      async run(t, settings) {
        const p = await t.player();
        const round = await openRound(t, settings, p);
        const attempts = t.impatientThrillgate.policy.retries + 1;
        t.proxy.plan("hold", { transactionId: round.debit.transaction_id, times: attempts, firstForwardAfterMs: settings.faultTimeoutMs });
        const result = await t.impatientThrillgate.debit(round.debit);
        t.expect("debit", `${result.debit.error?.name ?? outcome(result.debit)} ×${result.debit.attempts}`, `TimeoutError ×${attempts}`);
        t.expect("then", `${result.outcome} ${outcome(result.cancel ?? {})}`, "cancelled 200");
        t.expect("cancel balance", result.cancel?.source?.balance, quoted(t.money(OPENING_MINOR)));
        t.expect("ledger", await t.ledgerOf(p.id, round.debit.transaction_id), "1 apply, 1 reverse");
        const late = await t.wallet("POST", "/wallet/transaction", round.debit, { retry: false });
        t.ok("late copy changes nothing", late.status < 500, `${late.status} ${late.text}`);
        await t.expectBalance(p.id, OPENING_MINOR);
        t.expect("ledger after", await t.ledgerOf(p.id, round.debit.transaction_id), "1 apply, 1 reverse");
        await t.expectReconciled();
      },
    },
    {
      // The wallet applied the Debit but its answer was lost (a 503 after commit): the retry, sent
      // at once, answers the first result; nothing is applied twice and nothing needs cancelling.
      name: "jackpot debit answer lost after commit",
      async run(t, settings) {
        const p = await t.player();
        const round = await openRound(t, settings, p);
        const byWallet = await t.walletFaults({ player_id: p.id, lose_next_answers: 1 });
        if (!byWallet) t.proxy.plan("lose", { transactionId: round.debit.transaction_id });
        const result = await t.thrillgate.debit(round.debit);
        t.expect("debit", `${result.outcome} ×${result.debit.attempts} ${result.debit.source?.balance}`, `applied ×2 ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR)}`);
        t.expect("ledger", await t.ledgerOf(p.id, round.debit.transaction_id), "1 apply, 0 reverse");
        t.expect("credit", (await t.thrillgate.credit(round.credit(WIN_MINOR))).outcome, "applied");
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR);
        await t.expectReconciled();
      },
    },
    {
      // Every attempt of the Credit fails with a 5xx (the wallet's D1 refuses the write, or the edge
      // answers 503): it is never cancelled, goes pending, and the re-send is applied exactly once.
      name: "jackpot credit fails with 5xx, pending, re-sent",
      async run(t, settings) {
        const p = await t.player();
        const round = await openRound(t, settings, p);
        t.expect("debit", (await t.thrillgate.debit(round.debit)).outcome, "applied");
        const credit = round.credit(WIN_MINOR);
        const attempts = t.thrillgate.policy.retries + 1;
        const byWallet = await t.walletFaults({ player_id: p.id, fail_next_writes: attempts });
        if (!byWallet) t.proxy.plan("fail", { transactionId: credit.transaction_id, times: attempts });
        const first = await t.thrillgate.credit(credit);
        t.expect("credit", `${outcome(first.credit)} ×${first.credit.attempts} ${first.outcome}`, `503 UNAVAILABLE ×${attempts} pending`);
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR, "while pending");
        const resent = await t.thrillgate.resendPending();
        t.expect("re-sent", `${resent.map(outcome).join()} ${t.thrillgate.pendingCredits().length} pending`, "200 0 pending");
        t.expect("ledger", await t.ledgerOf(p.id, credit.transaction_id), "1 apply, 0 reverse");
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR, "then balance");
        await t.expectReconciled();
      },
    },
    {
      // Every answer of the Credit is lost (time-outs): the wallet applied it on the first attempt,
      // ThrillGate does not know, keeps it pending and sends it again: answered, applied once.
      name: "jackpot credit times out, pending, re-sent",
      async run(t, settings) {
        const p = await t.player();
        const round = await openRound(t, settings, p);
        t.expect("debit", (await t.thrillgate.debit(round.debit)).outcome, "applied");
        const credit = round.credit(WIN_MINOR);
        const attempts = t.impatientThrillgate.policy.retries + 1;
        t.proxy.plan("hold", { transactionId: credit.transaction_id, times: attempts, firstForwardAfterMs: settings.faultTimeoutMs });
        const first = await t.impatientThrillgate.credit(credit);
        t.expect("credit", `${first.credit.error?.name ?? outcome(first.credit)} ×${first.credit.attempts} ${first.outcome}`, `TimeoutError ×${attempts} pending`);
        const resent = await t.impatientThrillgate.resendPending();
        t.expect("re-sent", `${resent.map((r) => `${outcome(r)} ${r.source?.balance}`).join()}`, `200 ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR)}`);
        t.expect("ledger", await t.ledgerOf(p.id, credit.transaction_id), "1 apply, 0 reverse");
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR);
        await t.expectReconciled();
      },
    },
  ];
  return scenarios.map((scenario) => ({ ...scenario, name: `${scenario.name} (${label})`, rules }));
}

SCENARIOS.push(...jackpotScenarios("default"), ...jackpotScenarios("wallet"));

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
  if (currencyExponent(settings.currency) === undefined) throw new Error(`unknown currency ${settings.currency}`);
  if (!Object.hasOwn(RULE_SETS, settings.rules)) throw new Error(`rules must be ${Object.keys(RULE_SETS).join(" or ")}`);
  // The contract scenarios play ThrillGate under the chosen rules: by default every failed call is
  // retried, 4xx included, and a refusal must answer the same every time.
  const client = createThrillGateClient({ ...settings, errorResponseRules: RULE_SETS[settings.rules] });
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
    const t = scenarioContext({ client, settings, runId, name: scenario.name, proxy, rules: scenario.rules });
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
    ...(totals.retries ? [`${totals.retries} retried attempt(s) in the contract scenarios: failed answers sent again under the rules`] : []),
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
    backoffFactor: number("backoff-factor"),
    faultTimeoutMs: number("fault-timeout-ms"),
    rules: values.rules,
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
