import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, newPlayer, storedBalanceMinor, uniqueId, wallet } from "./helpers";

// Issue 12.5: the fields the wallet does not interpret are kept with the ledger entry exactly as
// sent: every key (__proto__ too) and every number as written (2.50, 12345678901234567890, 1E+2,
// -0), also under keys named amount or balance below the top level. Only the request's own
// `amount` is money.

/** The fields after the ones the wallet reads, written by hand so that their text is exactly this. */
const METADATA_TEXT =
  '{"provider_id":"thrillpots","jackpot":{"id":"jp-1","amount":2.5,"balance":10,"total":2.50},' +
  '"big":12345678901234567890,"exp":1E+2,"negative_zero":-0,"tiny":1e-7,"__proto__":{"polluted":true},' +
  '"balance":7.10,"list":[1.0,{"amount":3},"😀",null,true],"nested":{"__proto__":1,"constructor":"c"},"empty":{}}';

async function storedMetadata(transactionId: string): Promise<string | null> {
  const row = await env.DB.prepare(
    "SELECT metadata FROM ledger_entries WHERE transaction_id = ? AND effect = 'apply'",
  )
    .bind(transactionId)
    .first<{ metadata: string | null }>();
  return row?.metadata ?? null;
}

/** The request: the interpreted fields first, then the metadata text's members as they are. */
function requestText(playerId: string, transactionId: string, amountText: string): string {
  return `{"player_id":"${playerId}","transaction_id":"${transactionId}","transaction_type":"Credit","amount":${amountText},${METADATA_TEXT.slice(1)}`;
}

describe("metadata is kept exactly as sent", () => {
  it("a single transaction: D1 and the ledger API hold the unknown fields byte for byte, and only the top-level amount is money", async () => {
    const { playerId } = await newPlayer({ balance: "1.00" });
    const transactionId = uniqueId("meta");
    const answer = await wallet(
      "POST",
      "/wallet/transaction",
      requestText(playerId, transactionId, "2.50"),
    );
    expect(answer.status, answer.text).toBe(200);
    expect(await storedBalanceMinor(playerId)).toBe(350);
    expect(await storedMetadata(transactionId)).toBe(METADATA_TEXT);

    const ledger = await admin("GET", `/admin/players/${encodeURIComponent(playerId)}/ledger`);
    expect(ledger.status).toBe(200);
    expect(ledger.text).toContain(`"metadata":${METADATA_TEXT}`);
  });

  it("batch items: each item's unknown fields stored as sent, next to the batch_id", async () => {
    const { playerId } = await newPlayer({ balance: "1.00" });
    const ids = [uniqueId("meta"), uniqueId("meta")];
    const body = `{"batch_id":"${uniqueId("b")}","transactions":[${ids.map((id) => requestText(playerId, id, '"0.10"')).join(",")}]}`;
    const answer = await wallet("POST", "/wallet/transaction/batch", body);
    expect(
      answer.body.results.map((r: { status: string }) => r.status),
      answer.text,
    ).toEqual(["OK", "OK"]);
    for (const id of ids) expect(await storedMetadata(id)).toBe(METADATA_TEXT);
  });
});
