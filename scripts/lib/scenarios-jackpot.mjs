// The jackpot scenarios of `npm run simulate`; `t` is the scenario context of scripts/simulate.mjs.
import {
  CONTRIBUTION_MINOR,
  OPENING_MINOR,
  outcome,
  quoted,
  WIN_MINOR,
} from "./scenario-words.mjs";

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

/** The jackpot scenarios under one rule set ("default": ThrillGate's, "wallet": the wallet's). */
export function jackpotScenarios(rules) {
  const label = rules === "default" ? "ThrillGate's default rules" : "the wallet's rules";
  const scenarios = [
    ...roundScenarios(),
    ...debitFailureScenarios(rules),
    ...creditFailureScenarios(),
  ];
  return scenarios.map((scenario) => ({ ...scenario, name: `${scenario.name} (${label})`, rules }));
}

/** Rounds that go through. */
function roundScenarios() {
  return [
    {
      name: "jackpot round, won",
      async run(t, settings) {
        const p = await t.player();
        const round = await openRound(t, settings, p);
        const debit = await t.thrillgate.debit(round.debit);
        t.expect(
          "debit",
          `${debit.outcome} ${debit.debit.source?.balance}`,
          `applied ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR)}`,
        );
        const credit = await t.thrillgate.credit(round.credit(WIN_MINOR));
        t.expect(
          "credit",
          `${credit.outcome} ${credit.credit.source?.balance}`,
          `applied ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR)}`,
        );
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
        t.expect(
          "credit 0",
          `${credit.outcome} ${credit.credit.source?.balance}`,
          `applied ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR)}`,
        );
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR);
        await t.expectReconciled();
      },
    },
  ];
}

/** A Debit that fails: refused, timed out, or answered after commit. */
function debitFailureScenarios(rules) {
  return [
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
        t.expect(
          "debit",
          `${outcome(result.debit)} ×${result.debit.attempts}`,
          `402 INSUFFICIENT_FUNDS ×${retried ? 4 : 1}`,
        );
        t.expect("then", result.outcome, retried ? "cancelled" : "failed");
        if (retried)
          t.expect(
            "cancel",
            `${outcome(result.cancel)} ${result.cancel?.source?.balance}`,
            `200 ${quoted(t.money(CONTRIBUTION_MINOR / 2))}`,
          );
        await t.expectBalance(p.id, CONTRIBUTION_MINOR / 2);
        t.expect("top-up", outcome(await t.transaction(p.id, "Credit", OPENING_MINOR)), "200");
        const late = await t.wallet("POST", "/wallet/transaction", round.debit, { retry: false });
        t.ok("late copy not applied", late.status !== 200, `${late.status} ${late.text}`);
        await t.expectBalance(p.id, CONTRIBUTION_MINOR / 2 + OPENING_MINOR, "then balance");
        t.expect(
          "ledger",
          await t.ledgerOf(p.id, round.debit.transaction_id),
          "0 apply, 0 reverse",
        );
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
        t.proxy.plan("hold", {
          transactionId: round.debit.transaction_id,
          times: attempts,
          firstForwardAfterMs: settings.faultTimeoutMs,
        });
        const result = await t.impatientThrillgate.debit(round.debit);
        t.expect(
          "debit",
          `${result.debit.error?.name ?? outcome(result.debit)} ×${result.debit.attempts}`,
          `TimeoutError ×${attempts}`,
        );
        t.expect("then", `${result.outcome} ${outcome(result.cancel ?? {})}`, "cancelled 200");
        t.expect("cancel balance", result.cancel?.source?.balance, quoted(t.money(OPENING_MINOR)));
        t.expect(
          "ledger",
          await t.ledgerOf(p.id, round.debit.transaction_id),
          "1 apply, 1 reverse",
        );
        const late = await t.wallet("POST", "/wallet/transaction", round.debit, { retry: false });
        t.ok("late copy changes nothing", late.status < 500, `${late.status} ${late.text}`);
        await t.expectBalance(p.id, OPENING_MINOR);
        t.expect(
          "ledger after",
          await t.ledgerOf(p.id, round.debit.transaction_id),
          "1 apply, 1 reverse",
        );
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
        t.expect(
          "debit",
          `${result.outcome} ×${result.debit.attempts} ${result.debit.source?.balance}`,
          `applied ×2 ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR)}`,
        );
        t.expect(
          "ledger",
          await t.ledgerOf(p.id, round.debit.transaction_id),
          "1 apply, 0 reverse",
        );
        t.expect("credit", (await t.thrillgate.credit(round.credit(WIN_MINOR))).outcome, "applied");
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR);
        await t.expectReconciled();
      },
    },
  ];
}

/** A Credit that fails: pending, then re-sent. */
function creditFailureScenarios() {
  return [
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
        if (!byWallet)
          t.proxy.plan("fail", { transactionId: credit.transaction_id, times: attempts });
        const first = await t.thrillgate.credit(credit);
        t.expect(
          "credit",
          `${outcome(first.credit)} ×${first.credit.attempts} ${first.outcome}`,
          `503 UNAVAILABLE ×${attempts} pending`,
        );
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR, "while pending");
        const resent = await t.thrillgate.resendPending();
        t.expect(
          "re-sent",
          `${resent.map(outcome).join()} ${t.thrillgate.pendingCredits().length} pending`,
          "200 0 pending",
        );
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
        t.proxy.plan("hold", {
          transactionId: credit.transaction_id,
          times: attempts,
          firstForwardAfterMs: settings.faultTimeoutMs,
        });
        const first = await t.impatientThrillgate.credit(credit);
        t.expect(
          "credit",
          `${first.credit.error?.name ?? outcome(first.credit)} ×${first.credit.attempts} ${first.outcome}`,
          `TimeoutError ×${attempts} pending`,
        );
        const resent = await t.impatientThrillgate.resendPending();
        t.expect(
          "re-sent",
          `${resent.map((r) => `${outcome(r)} ${r.source?.balance}`).join()}`,
          `200 ${t.money(OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR)}`,
        );
        t.expect("ledger", await t.ledgerOf(p.id, credit.transaction_id), "1 apply, 0 reverse");
        await t.expectBalance(p.id, OPENING_MINOR - CONTRIBUTION_MINOR + WIN_MINOR);
        await t.expectReconciled();
      },
    },
  ];
}
