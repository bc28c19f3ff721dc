import { describe, expect, it } from "vitest";
import { knownAfter, type KnownTransaction } from "../src/ledger/writes";
import {
  decideCancel,
  decideStatus,
  decideTransaction,
  decideTransfer,
  stateAfter,
  type PlayerState,
  type TransactionOp,
  type TransferOp,
} from "../src/wallet/decide";

const state: PlayerState = {
  playerId: "p1",
  currency: "EUR",
  balanceMinor: 1000,
  status: "active",
};
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
      {
        kind: "tombstone",
        transactionId: "t1",
        playerId: null,
        batchId: null,
        brandId: null,
        listedBrands: null,
      },
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
      brandId: null,
      listedBrands: null,
      everyBrand: 0,
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
      brandId: null,
      listedBrands: null,
      everyBrand: 0,
    };
    expect(decideCancel(state, theirs, { transactionId: "t3", playerId: "p1" })).toMatchObject({
      kind: "refuse",
      refusal: { code: "INVALID_REQUEST" },
    });
  });

  it("refuses and records a Debit of a suspended or closed player, and still pays its Credits", () => {
    const debit: TransactionOp = { ...credit, transactionId: "t5", type: "Debit", amount: "1.00" };
    const rules = { acceptZeroValueCredits: true };
    for (const status of ["suspended", "closed"] as const) {
      const blocked = { ...state, status };
      expect(decideTransaction(blocked, undefined, debit, rules)).toMatchObject({
        kind: "refuse",
        refusal: { code: "PLAYER_SUSPENDED" },
        write: { kind: "refusal", type: "Debit", amountMinor: 100 },
      });
      expect(
        decideTransaction(blocked, undefined, { ...credit, amount: "2.00" }, rules),
      ).toMatchObject({ kind: "write", balanceMinor: 1200 });
    }
  });

  it("a debit applied before the suspension answers its copy as applied", () => {
    const debit: TransactionOp = { ...credit, transactionId: "t6", type: "Debit", amount: "1.00" };
    const rules = { acceptZeroValueCredits: true };
    const applied = decideTransaction(state, undefined, debit, rules);
    if (applied.kind !== "write" || applied.write.kind !== "apply")
      throw new Error("the debit was not applied");
    const known = knownAfter(applied.write, undefined);
    expect(decideTransaction({ ...state, status: "suspended" }, known, debit, rules)).toEqual({
      kind: "answer",
      balanceMinor: 900,
    });
  });
});

describe("the pure decisions of transfers", () => {
  const out: TransferOp = {
    transferId: "tr1",
    playerId: "p1",
    direction: "out",
    amount: "4.00",
    metadata: '{"reason":"withdrawal"}',
  };
  const into: TransferOp = { ...out, transferId: "tr2", direction: "in" };

  it("applies a transfer in and out as one ledger write of its kind, keeping the metadata", () => {
    expect(decideTransfer(state, undefined, out)).toEqual({
      kind: "write",
      balanceMinor: 600,
      write: {
        kind: "apply",
        transactionId: "tr1",
        playerId: "p1",
        type: "TransferOut",
        amountMinor: 400,
        deltaMinor: -400,
        currency: "EUR",
        batchId: null,
        metadata: '{"reason":"withdrawal"}',
        balanceAfterMinor: 600,
      },
    });
    expect(decideTransfer(state, undefined, into)).toMatchObject({
      kind: "write",
      balanceMinor: 1400,
      write: { type: "TransferIn", deltaMinor: 400 },
    });
  });

  it("refuses an amount of 0, a negative one, or one finer than the currency, recording nothing", () => {
    for (const amount of ["0", "0.00", "-1.00", "1.001", "abc"]) {
      const decision = decideTransfer(state, undefined, { ...out, amount });
      expect(decision, amount).toMatchObject({
        kind: "refuse",
        refusal: { code: "INVALID_REQUEST" },
      });
      expect(decision, amount).not.toHaveProperty("write");
    }
  });

  it("refuses and records a transfer out above the balance, with the balance", () => {
    const refused = decideTransfer(state, undefined, { ...out, amount: "10.01" });
    expect(refused).toMatchObject({
      kind: "refuse",
      refusal: { code: "INSUFFICIENT_FUNDS", balanceMinor: 1000 },
      write: { kind: "refusal", type: "TransferOut", amountMinor: 1001 },
    });
    expect(decideTransfer(state, undefined, { ...out, amount: "10.00" })).toMatchObject({
      kind: "write",
      balanceMinor: 0,
    });
  });

  it("refuses and records a transfer in to a closed player; out works for every status", () => {
    const closed = { ...state, status: "closed" as const };
    expect(decideTransfer(closed, undefined, into)).toMatchObject({
      kind: "refuse",
      refusal: { code: "PLAYER_CLOSED" },
      write: { kind: "refusal", type: "TransferIn" },
    });
    expect(decideTransfer({ ...state, status: "suspended" }, undefined, into).kind).toBe("write");
    for (const status of ["suspended", "closed"] as const)
      expect(decideTransfer({ ...state, status }, undefined, out).kind).toBe("write");
  });

  it("answers a copy of a transfer with its first answer, and other content with DUPLICATE_TRANSACTION", () => {
    const applied = decideTransfer(state, undefined, out);
    if (applied.kind !== "write" || applied.write.kind !== "apply") throw new Error("not applied");
    const known = knownAfter(applied.write, undefined);
    const later = { ...state, balanceMinor: 50 };
    expect(decideTransfer(later, known, { ...out, metadata: "{}" })).toEqual({
      kind: "answer",
      balanceMinor: 600,
    });
    for (const other of [{ amount: "4.01" }, { direction: "in" as const }, { playerId: "p2" }]) {
      expect(decideTransfer(later, known, { ...out, ...other })).toMatchObject({
        kind: "refuse",
        refusal: { code: "DUPLICATE_TRANSACTION" },
      });
    }
    const refused = decideTransfer(state, undefined, { ...out, amount: "99.00" });
    if (refused.kind !== "refuse" || !refused.write) throw new Error("not recorded");
    const rich = { ...state, balanceMinor: 100_000 };
    expect(
      decideTransfer(rich, knownAfter(refused.write, undefined), { ...out, amount: "99.00" }),
    ).toEqual({
      kind: "refuse",
      refusal: refused.refusal,
    });
  });

  it("keeps one id space: a transfer never takes a ThrillGate id, nor a transaction a transfer's", () => {
    const debit: TransactionOp = { ...credit, transactionId: "tr1", type: "Debit", amount: "4.00" };
    const rules = { acceptZeroValueCredits: true };
    const appliedDebit = decideTransaction(state, undefined, debit, rules);
    if (appliedDebit.kind !== "write" || appliedDebit.write.kind !== "apply")
      throw new Error("not applied");
    expect(decideTransfer(state, knownAfter(appliedDebit.write, undefined), out)).toMatchObject({
      refusal: { code: "DUPLICATE_TRANSACTION" },
    });
    const tombstone = knownAfter(
      {
        kind: "tombstone",
        transactionId: "tr1",
        playerId: null,
        batchId: null,
        brandId: null,
        listedBrands: null,
      },
      undefined,
    );
    expect(decideTransfer(state, tombstone, out)).toMatchObject({
      refusal: { code: "DUPLICATE_TRANSACTION" },
    });
    const transfer = decideTransfer(state, undefined, out);
    if (transfer.kind !== "write" || transfer.write.kind !== "apply")
      throw new Error("not applied");
    const known = knownAfter(transfer.write, undefined);
    for (const type of ["Debit", "Credit", "None"] as const) {
      expect(decideTransaction(state, known, { ...debit, type }, rules)).toMatchObject({
        refusal: { code: "DUPLICATE_TRANSACTION" },
      });
    }
    expect(decideCancel(state, known, { transactionId: "tr1", playerId: "p1" })).toMatchObject({
      refusal: { code: "DUPLICATE_TRANSACTION" },
    });
  });
});

describe("the pure decisions of player status", () => {
  it("sets a status, and answers a status the player already has without writing", () => {
    const suspend = decideStatus(state, { playerId: "p1", status: "suspended" });
    expect(suspend).toEqual({
      kind: "write",
      balanceMinor: 1000,
      write: { kind: "status", playerId: "p1", status: "suspended", balanceMinor: 1000 },
    });
    expect(stateAfter(state, suspend)).toEqual({ ...state, status: "suspended" });
    expect(decideStatus(state, { playerId: "p1", status: "active" })).toEqual({
      kind: "answer",
      balanceMinor: 1000,
    });
  });

  it("closes only a player whose balance is 0, and refuses otherwise with the balance", () => {
    expect(decideStatus(state, { playerId: "p1", status: "closed" })).toEqual({
      kind: "refuse",
      refusal: expect.objectContaining({ code: "BALANCE_NOT_ZERO", balanceMinor: 1000 }),
    });
    expect(
      decideStatus({ ...state, balanceMinor: 0 }, { playerId: "p1", status: "closed" }),
    ).toMatchObject({ kind: "write", write: { kind: "status", status: "closed" } });
  });
});
