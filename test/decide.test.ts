import { describe, expect, it } from "vitest";
import { knownAfter, type KnownTransaction } from "../src/ledger/writes";
import { decideCancel, decideTransaction, type TransactionOp } from "../src/wallet/decide";

const state = { playerId: "p1", currency: "EUR", balanceMinor: 1000 };
const credit: TransactionOp = {
  transactionId: "t1",
  playerId: "p1",
  type: "Credit",
  amount: "0",
  metadata: "{}",
};

describe("the pure decisions of the wallet", () => {
  it("refuses a zero-value credit when the operator does not accept them", () => {
    expect(
      decideTransaction(state, undefined, credit, { acceptZeroValueCredits: false }),
    ).toMatchObject({
      kind: "refuse",
      refusal: { code: "INVALID_REQUEST" },
    });
    expect(decideTransaction(state, undefined, credit, { acceptZeroValueCredits: true }).kind).toBe(
      "write",
    );
  });

  it("refuses a transaction whose id is a tombstone", () => {
    const tombstone = knownAfter(
      { kind: "tombstone", transactionId: "t1", playerId: null, batchId: null },
      undefined,
    );
    expect(
      decideTransaction(state, tombstone, credit, { acceptZeroValueCredits: true }),
    ).toMatchObject({
      kind: "refuse",
      refusal: { code: "TRANSACTION_CANCELLED" },
    });
  });

  it("records a refusal, and answers a later copy the same even when it could now be paid", () => {
    const debit: TransactionOp = {
      transactionId: "t4",
      playerId: "p1",
      type: "Debit",
      amount: "12.00",
      metadata: "{}",
    };
    const refused = decideTransaction(state, undefined, debit, { acceptZeroValueCredits: true });
    expect(refused).toMatchObject({
      kind: "refuse",
      refusal: { code: "INSUFFICIENT_FUNDS", balanceMinor: 1000 },
      write: { kind: "refusal" },
    });
    if (refused.kind !== "refuse" || !refused.write)
      throw new Error("the refusal was not recorded");
    const write = refused.write;
    const known = knownAfter(write, undefined);
    const richer = { ...state, balanceMinor: 5000 };
    expect(decideTransaction(richer, known, debit, { acceptZeroValueCredits: true })).toEqual({
      kind: "refuse",
      refusal: refused.refusal,
    });
    expect(
      decideTransaction(
        richer,
        known,
        { ...debit, amount: "1.00" },
        { acceptZeroValueCredits: true },
      ),
    ).toMatchObject({
      refusal: { code: "DUPLICATE_TRANSACTION" },
    });
    // Nothing was applied, so a cancel has nothing to reverse.
    expect(decideCancel(richer, known, { transactionId: "t4", playerId: "p1" })).toEqual({
      kind: "answer",
      balanceMinor: 5000,
    });
  });

  it("reverses a debit by giving the amount back, and a credit by taking it", () => {
    const debit: KnownTransaction = {
      transactionId: "t2",
      playerId: "p1",
      status: "applied",
      type: "Debit",
      amountMinor: 300,
      currency: "EUR",
      batchId: null,
      balanceAfterMinor: 700,
      refusalCode: null,
      refusalMessage: null,
      refusalBalanceMinor: null,
    };
    expect(decideCancel(state, debit, { transactionId: "t2", playerId: "p1" })).toMatchObject({
      kind: "write",
      balanceMinor: 1300,
    });
    const bigCredit = { ...debit, type: "Credit" as const, amountMinor: 1001 };
    expect(decideCancel(state, bigCredit, { transactionId: "t2", playerId: "p1" })).toMatchObject({
      kind: "refuse",
      refusal: { code: "INSUFFICIENT_FUNDS", balanceMinor: 1000 },
    });
    expect(
      decideCancel(
        state,
        { ...debit, status: "cancelled" },
        { transactionId: "t2", playerId: "p1" },
      ),
    ).toEqual({ kind: "answer", balanceMinor: 1000 });
  });

  it("refuses to cancel another player's transaction", () => {
    const theirs: KnownTransaction = {
      transactionId: "t3",
      playerId: "p2",
      status: "applied",
      type: "Debit",
      amountMinor: 1,
      currency: "EUR",
      batchId: null,
      balanceAfterMinor: 0,
      refusalCode: null,
      refusalMessage: null,
      refusalBalanceMinor: null,
    };
    expect(decideCancel(state, theirs, { transactionId: "t3", playerId: "p1" })).toMatchObject({
      kind: "refuse",
      refusal: { code: "INVALID_REQUEST" },
    });
  });
});
