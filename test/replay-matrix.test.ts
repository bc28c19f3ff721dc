import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../src/auth/hmac";
import { admin, newPlayer, sendRaw, uniqueId, wallet, type TestPlayer } from "./helpers";

// Issue 12.1: the signature covers the body, not the route. A body ThrillGate signed for one
// route, sent with its signature to another, must be refused there or change nothing: no balance,
// ledger entry, transaction id, cancel or session. The rule is in src/api/schemas.ts: each route
// refuses, at the top level, the fields that make another route's body.

const ROUTES = {
  authenticate: { method: "POST", path: "/wallet/authenticate" },
  transaction: { method: "POST", path: "/wallet/transaction" },
  cancel: { method: "DELETE", path: "/wallet/cancel" },
  batch: { method: "POST", path: "/wallet/transaction/batch" },
  batchCancel: { method: "DELETE", path: "/wallet/transaction/batch" },
} as const;
type Route = keyof typeof ROUTES;

/** Every row of every table a request can write: any change to money, ids or sessions shows. */
async function fullSnapshot(): Promise<string> {
  const tables = ["players", "transactions", "ledger_entries", "cancellations", "sessions"];
  const dumps = await Promise.all(
    tables.map((table) => env.DB.prepare(`SELECT * FROM ${table} ORDER BY 1`).all()),
  );
  return JSON.stringify(dumps.map((dump) => dump.results));
}

async function send(route: Route, body: string) {
  const { method, path } = ROUTES[route];
  return sendRaw(path, {
    method,
    headers: {
      "content-type": "application/json",
      "x-server-authorization": await signBody(body, env.WALLET_HMAC_SECRET),
    },
    body,
  });
}

let sender: TestPlayer;
let victim: TestPlayer;
/** A batch of the victim's, applied: a cancel by its batch_id would take its money back. */
const victimBatch = uniqueId("victim-batch");
let victimTx: string;
let victimBatchTx: string[];

beforeAll(async () => {
  sender = await newPlayer({ balance: "100.00" });
  victim = await newPlayer({ balance: "100.00" });
  victimTx = uniqueId("victim-tx");
  victimBatchTx = [uniqueId("victim-btx"), uniqueId("victim-btx")];
  const credit = (transactionId: string) => ({
    player_id: victim.playerId,
    transaction_id: transactionId,
    transaction_type: "Credit",
    provider_id: "thrillpots",
    amount: "5.00",
  });
  expect((await wallet("POST", "/wallet/transaction", credit(victimTx))).status).toBe(200);
  const batch = await wallet("POST", "/wallet/transaction/batch", {
    batch_id: victimBatch,
    transactions: victimBatchTx.map(credit),
  });
  expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(["OK", "OK"]);
});

/** Fields a sender may add to any body, each naming something of the victim's. */
function extras(): Record<string, Record<string, unknown>> {
  const victimCredit = {
    player_id: victim.playerId,
    transaction_id: uniqueId("foreign"),
    transaction_type: "Credit",
    provider_id: "thrillpots",
    amount: "7.00",
  };
  return {
    none: {},
    batch_id: { batch_id: victimBatch },
    "transactions (cancel items)": {
      transactions: [{ transaction_id: victimTx, player_id: victim.playerId }],
    },
    "transactions (transactions)": { transactions: [victimCredit] },
    "batch_id and transactions": {
      batch_id: victimBatch,
      transactions: [{ transaction_id: victimTx }],
    },
    player_id: { player_id: victim.playerId },
    transaction_id: { transaction_id: victimTx },
    "authenticate fields": {
      operator_id: victim.operatorId,
      brand_id: victim.brandId,
      player_token: victim.token,
      currency: "EUR",
    },
    "a transaction's fields": {
      transaction_type: "Debit",
      amount: "3.00",
      provider_id: "thrillpots",
    },
    "unknown fields": { round_id: "r-1", game_code: "g", token: victim.token },
  };
}

/** A body valid on `route` as it stands (fresh ids each time), from the sender. */
async function baseBody(route: Route): Promise<Record<string, unknown> | unknown[]> {
  const credit = () => ({
    player_id: sender.playerId,
    transaction_id: uniqueId("tx"),
    transaction_type: "Credit",
    provider_id: "thrillpots",
    amount: "0.01",
  });
  const applied = async () => {
    const item = credit();
    expect((await wallet("POST", "/wallet/transaction", item)).status).toBe(200);
    return item.transaction_id;
  };
  switch (route) {
    case "authenticate":
      return {
        operator_id: sender.operatorId,
        brand_id: sender.brandId,
        player_token: sender.token,
        source_id: "game1",
        currency: "EUR",
      };
    case "transaction":
      return credit();
    case "cancel":
      return { transaction_id: await applied(), player_id: sender.playerId };
    case "batch":
      return { batch_id: uniqueId("batch"), transactions: [credit(), credit()] };
    case "batchCancel":
      return { transactions: [{ transaction_id: await applied(), player_id: sender.playerId }] };
  }
}

describe("a signed body replayed on another route is refused or changes nothing (issue 12.1)", () => {
  for (const route of Object.keys(ROUTES) as Route[]) {
    it(`bodies of ${ROUTES[route].method} ${ROUTES[route].path}, with and without added fields, on every other route`, async () => {
      const moved: string[] = [];
      let replayed = 0;
      for (const [name, fields] of Object.entries(extras())) {
        const base = await baseBody(route);
        // Added, never replacing the body's own fields: what a sender may put beside them.
        const variants: unknown[] = Array.isArray(base) ? [base] : [{ ...fields, ...base }];
        // A batch may be sent as a bare array: that shape too.
        if (route === "batch" && name === "none" && !Array.isArray(base))
          variants.push(base.transactions as unknown[]);
        if (route === "batchCancel" && name === "none" && !Array.isArray(base))
          variants.push(base.transactions as unknown[], { batch_id: uniqueId("own-batch") });
        for (const variant of variants) {
          const body = JSON.stringify(variant);
          // Sent where it belongs first: only a body its own route takes is one ThrillGate would sign for it.
          const own = await send(route, body);
          expect(own.status, `${route} ${name}: ${own.text}`).toBeLessThan(500);
          if (own.status !== 200) continue;
          replayed += 1;
          for (const other of Object.keys(ROUTES) as Route[]) {
            if (other === route) continue;
            const before = await fullSnapshot();
            const answer = await send(other, body);
            expect(
              answer.status,
              `${route} body (${name}) on ${other}: ${answer.text}`,
            ).toBeLessThan(500);
            if ((await fullSnapshot()) !== before)
              moved.push(
                `${route} body (${name}) on ${other} answered ${answer.status} ${answer.text.slice(0, 200)} and changed the ledger`,
              );
          }
        }
      }
      expect(moved).toEqual([]);
      expect(replayed).toBeGreaterThanOrEqual(3);
      // The victim's money is where it was: opening 100.00 plus three credits of 5.00.
      const player = await admin("GET", `/admin/players/${victim.playerId}`);
      expect(player.text).toContain('"balance":115.00');
    });
  }

  it("the issue's case: a transaction carrying a batch_id, replayed as a batch cancel, is refused and reverses nothing", async () => {
    const body = JSON.stringify({
      player_id: sender.playerId,
      transaction_id: uniqueId("z"),
      transaction_type: "Credit",
      provider_id: "thrillpots",
      amount: "0.01",
      batch_id: victimBatch,
    });
    expect((await send("transaction", body)).status).toBe(200);
    const before = await fullSnapshot();
    const replay = await send("batchCancel", body);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ code: "INVALID_REQUEST" });
    expect(await fullSnapshot()).toBe(before);
  });

  it("a single cancel carrying a batch_id cancels its own id only, and its replay as a batch cancel is refused", async () => {
    const own = await baseBody("cancel");
    const body = JSON.stringify({ ...own, batch_id: victimBatch });
    expect((await send("cancel", body)).body).toEqual({ balance: expect.any(String) });
    const before = await fullSnapshot();
    expect((await send("batchCancel", body)).status).toBe(400);
    expect(await fullSnapshot()).toBe(before);
  });
});
