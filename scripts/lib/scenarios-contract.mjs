// The contract scenarios of `npm run simulate`, in the order they run, in groups. Each starts
// from its own fresh player(s) at 100.00. `t` is the scenario context of scripts/simulate.mjs.
import { createThrillGateClient } from "./thrillgate-client.mjs";
import {
  CONCURRENT_DEBITS,
  CONCURRENT_OPENING_MINOR,
  itemOutcome,
  OPENING_MINOR,
  outcome,
  quoted,
  withNumberAmount,
} from "./scenario-words.mjs";

export function contractScenarios() {
  return [
    ...authenticationScenarios(),
    ...transactionScenarios(),
    ...cancelScenarios(),
    ...batchScenarios(),
    ...robustnessScenarios(),
  ];
}

/** Authenticate and balance. */
function authenticationScenarios() {
  return [
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
        t.ok(
          "fresh token",
          typeof a.body?.token === "string" && a.body.token.length > 0 && a.body.token !== p.token,
          a.source?.token,
        );
        t.expect("balance", a.source?.balance, t.money(OPENING_MINOR));
        t.expect("currency", a.source?.currency, quoted(settings.currency));
        t.ok(
          "operator/brand",
          a.body?.operator_id === settings.operator && a.body?.brand_id === settings.brand,
          a.text,
        );
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
  ];
}

/** Single transactions: applied once, refused whole. */
function transactionScenarios() {
  return [
    {
      name: "debit",
      async run(t, settings) {
        const p = await t.player();
        const body = t.transactionItem(p.id, "Debit", 1_234);
        const a = await t.wallet("POST", "/wallet/transaction", withNumberAmount(body));
        t.expect("", outcome(a), "200");
        t.ok(
          "transaction_id",
          a.body?.transaction_id === body.transaction_id,
          a.source?.transaction_id,
        );
        t.expect("balance", a.source?.balance, t.money(OPENING_MINOR - 1_234));
        t.expect("currency", a.source?.currency, quoted(settings.currency));
        await t.expectBalance(p.id, OPENING_MINOR - 1_234);
      },
    },
    {
      name: "credit",
      async run(t) {
        const p = await t.player();
        const a = await t.wallet(
          "POST",
          "/wallet/transaction",
          withNumberAmount(t.transactionItem(p.id, "Credit", 550)),
        );
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
        const replays = await Promise.all(
          [1, 2, 3].map(() => t.wallet("POST", "/wallet/transaction", body)),
        );
        const differing = replays.filter((r) => r.status !== first.status || r.text !== first.text);
        t.ok(
          "3 concurrent replays answer the same",
          differing.length === 0,
          differing.map((r) => `${r.status} ${r.text}`).join(" "),
        );
        await t.expectBalance(p.id, OPENING_MINOR - 1_000);
      },
    },
    {
      name: "same id, other amount",
      async run(t) {
        const p = await t.player();
        const body = t.transactionItem(p.id, "Debit", 1_000);
        t.expect("first", outcome(await t.wallet("POST", "/wallet/transaction", body)), "200");
        const other = await t.wallet("POST", "/wallet/transaction", {
          ...body,
          amount: t.money(2_000),
        });
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
  ];
}

/** Cancels, also of an id not seen yet. */
function cancelScenarios() {
  return [
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
        t.expect(
          "cancel again",
          `${outcome(again)} ${again.source?.balance}`,
          `200 ${quoted(t.money(OPENING_MINOR))}`,
        );
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
        t.expect(
          "cancel",
          `${outcome(a)} ${a.source?.balance}`,
          `200 ${quoted(t.money(OPENING_MINOR))}`,
        );
        t.expect(
          "original",
          outcome(await t.wallet("POST", "/wallet/transaction", debit)),
          "409 TRANSACTION_CANCELLED",
        );
        await t.expectBalance(p.id, OPENING_MINOR);
      },
    },
  ];
}

/** Batches and their cancels. */
function batchScenarios() {
  return [
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
        t.ok(
          "in request order",
          items.every((item, i) => results[i]?.transaction_id === quoted(item.transaction_id)),
          answer.text,
        );
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
        const items = [
          t.transactionItem(p.id, "Debit", 500),
          t.transactionItem(p.id, "Debit", 700),
        ];
        const batch = await t.wallet("POST", "/wallet/transaction/batch", {
          batch_id: t.id("batch"),
          transactions: items,
        });
        t.expect("batch", outcome(batch), "200");
        const answer = await t.wallet("DELETE", "/wallet/transaction/batch", {
          transactions: [
            { transaction_id: items[0].transaction_id, player_id: p.id },
            { transaction_id: items[1].transaction_id },
          ],
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
        const items = [
          t.transactionItem(p.id, "Debit", 500),
          t.transactionItem(p.id, "Debit", 700),
        ];
        t.expect(
          "batch",
          outcome(
            await t.wallet("POST", "/wallet/transaction/batch", {
              batch_id: batchId,
              transactions: items,
            }),
          ),
          "200",
        );
        const answer = await t.wallet("DELETE", "/wallet/transaction/batch", { batch_id: batchId });
        t.expect("cancel", outcome(answer), "200");
        const results = answer.body?.results ?? [];
        const cancelled = results
          .filter((r) => r.status === "OK")
          .map((r) => r.transaction_id)
          .sort();
        const batched = items.map((item) => item.transaction_id).sort();
        t.ok(
          "both cancelled",
          results.length === 2 && cancelled.join() === batched.join(),
          answer.text,
        );
        await t.expectBalance(p.id, OPENING_MINOR);
      },
    },
  ];
}

/** Concurrency, signatures and malformed input. */
function robustnessScenarios() {
  return [
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
        const others = answers.filter(
          (a) => !["200", "402 INSUFFICIENT_FUNDS"].includes(outcome(a)),
        );
        t.expect("200 ×", count("200"), CONCURRENT_OPENING_MINOR / 100);
        t.expect(
          "402 INSUFFICIENT_FUNDS ×",
          count("402 INSUFFICIENT_FUNDS"),
          CONCURRENT_DEBITS - CONCURRENT_OPENING_MINOR / 100,
        );
        t.ok("nothing else", others.length === 0, others.map(outcome).join(" "));
        const answered = answers
          .filter((a) => a.status === 200)
          .map((a) => a.source?.balance)
          .sort()
          .join();
        const steps = Array.from({ length: CONCURRENT_OPENING_MINOR / 100 }, (_, i) =>
          t.money(i * 100),
        )
          .sort()
          .join();
        t.ok("each balance answered once", answered === steps, answered);
        await t.expectBalance(p.id, 0);
      },
    },
    {
      name: "bad signature",
      async run(t, settings) {
        const p = await t.player();
        const body = t.transactionItem(p.id, "Debit", 100);
        const foreign = createThrillGateClient({
          ...settings,
          secret: `${settings.secret}-not-ours`,
        });
        t.expect(
          "wrong key",
          outcome(await foreign.wallet("POST", "/wallet/transaction", body)),
          "401 INVALID_SIGNATURE",
        );
        t.expect(
          "no header",
          outcome(await t.wallet("POST", "/wallet/transaction", body, { signature: null })),
          "401 INVALID_SIGNATURE",
        );
        // Our key, but over other bytes (the empty body): the signature covers the body it came with.
        const otherBody = await t.wallet("POST", "/wallet/transaction", body, {
          signature: await t.sign(""),
        });
        t.expect("other body's", outcome(otherBody), "401 INVALID_SIGNATURE");
        await t.expectBalance(p.id, OPENING_MINOR);
      },
    },
    {
      name: "malformed body",
      async run(t) {
        const p = await t.player();
        const truncated = JSON.stringify(t.transactionItem(p.id, "Debit", 100)).slice(0, -10);
        t.expect(
          "",
          outcome(await t.wallet("POST", "/wallet/transaction", truncated)),
          "400 INVALID_REQUEST",
        );
        await t.expectBalance(p.id, OPENING_MINOR);
      },
    },
    {
      // Amounts are exact: more decimals than the currency has are refused, never rounded.
      name: "amount with too many decimals",
      async run(t) {
        const p = await t.player();
        const amount = `${t.money(100)}${t.money(100).includes(".") ? "" : "."}1`; // 1.001 in EUR
        const a = await t.wallet(
          "POST",
          "/wallet/transaction",
          t.transactionItem(p.id, "Debit", 0, { amount }),
        );
        t.expect(`amount ${amount}`, outcome(a), "400 INVALID_REQUEST");
        await t.expectBalance(p.id, OPENING_MINOR);
      },
    },
  ];
}
