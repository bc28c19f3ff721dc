import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWallet } from "../scripts/lib/local-wallet.mjs";
import { createThrillGateClient } from "../scripts/lib/thrillgate-client.mjs";

// Issue 25.1 against a real `wrangler dev`: a batch_id that three requests grew to 2,500 items is
// cancelled by batch_id alone as ThrillGate sends it (the project's client, ThrillGate's default
// retry rules), once with the default time budget and once with a budget of 0 ms, where every call
// but the last answers 503 and ThrillGate's retries carry the cancel through. Either way the answer
// is a 200 only when every item is reversed, no item is reversed twice, and reconciliation is exact.

type Wallet = Awaited<ReturnType<typeof startLocalWallet>>;
type Client = ReturnType<typeof createThrillGateClient>;

const PLAYERS = 5;
const ITEMS = 2500;
const OPENING = "500.00";
/** Ledger pages a player may take: 2 entries per item at 500 a page, with room; a repeat fails fast. */
const PAGE_BUDGET = 20;

const wallets: Record<string, Wallet> = {};

beforeAll(async () => {
  wallets.default = await startLocalWallet();
  wallets.zero = await startLocalWallet({ vars: { BATCH_CANCEL_BUDGET_MS: "0" } });
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(wallets).map((wallet) => wallet.stop()));
});

const clientOf = (wallet: Wallet) =>
  createThrillGateClient({ url: wallet.url, secret: wallet.secret, adminToken: wallet.adminToken });

/** Every ledger entry of a player, as "transaction_id effect", oldest first. */
async function ledgerOf(client: Client, playerId: string): Promise<string[]> {
  const entries: { id: number; transaction_id: string; effect: string }[] = [];
  let before: number | null = null;
  for (let page = 0; ; page++) {
    expect(page, `ledger pages of ${playerId}`).toBeLessThan(PAGE_BUDGET);
    const query: string = before === null ? "limit=500" : `limit=500&before=${before}`;
    const answer = await client.admin("GET", `/admin/players/${playerId}/ledger?${query}`);
    expect(answer.status, answer.text).toBe(200);
    entries.push(...answer.body.entries);
    before = answer.body.next_before;
    if (before === null) break;
  }
  return entries.sort((x, y) => x.id - y.id).map((e) => `${e.transaction_id} ${e.effect}`);
}

describe("a cancel by batch_id of 2,500 items sent in three requests", () => {
  it.each([
    ["the default time budget", "default"],
    ["a time budget of 0 ms (a 503 per page, retried)", "zero"],
  ])(
    "with %s: 200 only when all are reversed, each once, reconciliation exact",
    async (_, name) => {
      const wallet = wallets[name]!;
      const client = clientOf(wallet);
      const run = `${name}-${Date.now()}`;
      const players = Array.from({ length: PLAYERS }, (_, p) => `bc-${run}-p${p}`);
      for (const playerId of players) {
        const created = await client.admin("POST", "/admin/players", {
          player_id: playerId,
          operator_id: "op",
          brand_id: "brand",
          currency: "EUR",
          balance: OPENING,
        });
        expect(created.status, created.text).toBe(201);
      }
      // Debits of 0.10 to 0.90 and every seventh item a Credit, spread over the players.
      const items = Array.from({ length: ITEMS }, (_, i) => ({
        player_id: players[i % PLAYERS],
        transaction_id: `bc-${run}-tx${i}`,
        transaction_type: i % 7 === 0 ? "Credit" : "Debit",
        provider_id: "thrillpots",
        amount: `0.${(i % 9) + 1}0`,
        currency: "EUR",
      }));
      const batchId = `bc-${run}`;
      for (const transactions of [
        items.slice(0, 1000),
        items.slice(1000, 2000),
        items.slice(2000),
      ]) {
        const sent = await client.wallet("POST", "/wallet/transaction/batch", {
          batch_id: batchId,
          transactions,
        });
        expect(sent.status, sent.text.slice(0, 500)).toBe(200);
        expect(sent.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
      }

      const cancelled = await client.wallet("DELETE", "/wallet/transaction/batch", {
        batch_id: batchId,
      });
      expect(cancelled.status, cancelled.text.slice(0, 500)).toBe(200);
      // With a budget of 0 ms each call undoes one page of MAX_BATCH_SIZE (1000): 3 attempts.
      if (name === "zero") expect(cancelled.attempts).toBe(3);
      const results: { transaction_id: string; status: string }[] = cancelled.body.results;
      expect(results).toHaveLength(ITEMS);
      expect(results.filter((r) => r.status !== "OK")).toEqual([]);
      expect(new Set(results.map((r) => r.transaction_id)).size).toBe(ITEMS);

      for (const playerId of players) {
        const player = await client.admin("GET", `/admin/players/${playerId}`);
        expect(player.body.balance, playerId).toBe(500);
        const ledger = await ledgerOf(client, playerId);
        const own = items.filter((item) => item.player_id === playerId);
        // Each item applied once and reversed once: nothing twice, nothing left applied.
        expect(ledger).toHaveLength(2 * own.length);
        expect(new Set(ledger).size).toBe(ledger.length);
        for (const item of own) {
          expect(ledger).toContain(`${item.transaction_id} apply`);
          expect(ledger).toContain(`${item.transaction_id} reverse`);
        }
      }
      const reconcile = await client.admin("GET", "/admin/reconcile");
      expect(reconcile.status, reconcile.text).toBe(200);
      expect(reconcile.body.ok, reconcile.text).toBe(true);
      expect(reconcile.body.balance_mismatches).toEqual([]);
      expect(reconcile.body.transaction_problems).toEqual([]);
      expect(reconcile.body.players_checked).toBeGreaterThanOrEqual(PLAYERS);
    },
    120_000,
  );
});
