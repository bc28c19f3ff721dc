import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { signBody } from "../src/auth/hmac";
import worker from "../src/index";
import { checkAgainstOpenApi } from "./openapi-check";

// Tests talk to the Worker as ThrillGate and operators do: over HTTP, signed or with the admin token.

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answer bodies field by field; every answer is checked against openapi.json
  body: any;
  text: string;
  headers: Headers;
}

// The Worker's own fetch handler, with the real bindings (D1, Durable Objects) of wrangler.toml.
// Not SELF.fetch: in this pool version each SELF call makes every later one slower.
async function send(
  path: string,
  init: RequestInit,
  bindings: Cloudflare.Env = env,
): Promise<Answer> {
  const url = `http://wallet.test${path}`;
  const response = await worker.fetch(new Request(url, init), bindings, createExecutionContext());
  // Decoded here rather than by text(), which warns on a media type it does not take for text
  // (the ledger export's application/x-ndjson); both replace malformed UTF-8 alike.
  const text = new TextDecoder().decode(await response.arrayBuffer());
  // A drift between the document and what the wallet answers fails the test that saw it.
  checkAgainstOpenApi(
    init.method ?? "GET",
    url,
    init.body,
    response.status,
    text,
    response.headers.get("content-type"),
  );
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

export interface WalletCallOptions {
  /** Overrides the computed signature; null sends no X-Server-Authorization at all. */
  signature?: string | null;
  /** The key to sign with (a brand's, from WALLET_HMAC_SECRETS); the default key if absent. */
  secret?: string;
  headers?: Record<string, string>;
  /** Other settings for this one call, e.g. { ACCEPT_ZERO_VALUE_CREDITS: "false" }. */
  vars?: Partial<Cloudflare.Env>;
}

/** A ThrillGate call: `body` (an object, or raw text sent byte for byte) signed with the wallet secret. */
export async function wallet(
  method: string,
  path: string,
  body?: unknown,
  options: WalletCallOptions = {},
): Promise<Answer> {
  const raw = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  const signature =
    options.signature === undefined
      ? await signBody(raw, options.secret ?? env.WALLET_HMAC_SECRET)
      : options.signature;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...options.headers,
  };
  if (signature !== null) headers["x-server-authorization"] = signature;
  return send(
    path,
    { method, headers, body: method === "GET" ? undefined : raw },
    { ...env, ...options.vars },
  );
}

/** An operator call to the admin API; a string body is sent as it is. */
export async function admin(
  method: string,
  path: string,
  body?: unknown,
  token = env.ADMIN_TOKEN,
  vars: Partial<Cloudflare.Env> = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const raw = body === undefined || typeof body === "string" ? body : JSON.stringify(body);
  return send(path, { method, headers, body: raw }, { ...env, ...vars });
}

let counter = 0;
/** An id no other test uses, so test files can share one database. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestPlayer {
  playerId: string;
  token: string;
  operatorId: string;
  brandId: string;
  currency: string;
}

/** Creates a player through the admin API, with a launch token. */
export async function newPlayer(fields: Record<string, unknown> = {}): Promise<TestPlayer> {
  const playerId = uniqueId("player");
  const request = {
    player_id: playerId,
    operator_id: "thrilltech",
    brand_id: "brand1",
    currency: "EUR",
    balance: "1000.00",
    ...fields,
  };
  const created = await admin("POST", "/admin/players", request);
  if (created.status !== 201)
    throw new Error(`creating a player failed: ${created.status} ${created.text}`);
  const session = await admin("POST", `/admin/players/${playerId}/sessions`, {});
  if (session.status !== 201)
    throw new Error(`creating a session failed: ${session.status} ${session.text}`);
  return {
    playerId,
    token: session.body.player_token,
    operatorId: String(request.operator_id),
    brandId: String(request.brand_id),
    currency: String(request.currency),
  };
}

/** Counts rows in D1 directly: how a test proves that a refused request changed nothing. */
export async function countRows(
  table: "sessions" | "players" | "ledger_entries" | "transactions",
  playerId: string,
): Promise<number> {
  const column = table === "players" ? "id" : "player_id";
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`)
    .bind(playerId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export function expectErrorShape(answer: Answer, status: number, code: string): void {
  if (
    answer.status !== status ||
    answer.body?.code !== code ||
    typeof answer.body?.message !== "string"
  ) {
    throw new Error(`expected ${status} ${code}, got ${answer.status} ${answer.text}`);
  }
}

/** A signed POST /wallet/transaction; `fields` override the defaults (a 1.00 EUR Debit). */
export function transact(
  playerId: string,
  fields: Record<string, unknown> = {},
  options: WalletCallOptions = {},
): Promise<Answer> {
  return wallet(
    "POST",
    "/wallet/transaction",
    {
      player_id: playerId,
      transaction_id: uniqueId("tx"),
      transaction_type: "Debit",
      provider_id: "thrillpots",
      amount: "1.00",
      currency: "EUR",
      ...fields,
    },
    options,
  );
}

/** A signed DELETE /wallet/cancel; pass playerId null (or omit it) to let the wallet find the owner. */
export function cancel(transactionId: string, playerId?: string | null): Promise<Answer> {
  return wallet(
    "DELETE",
    "/wallet/cancel",
    playerId === undefined
      ? { transaction_id: transactionId }
      : { transaction_id: transactionId, player_id: playerId },
  );
}

/** The balance as the exact decimal text the wallet wrote ("12.30"). */
export async function balanceText(playerId: string): Promise<string> {
  const answer = await wallet("GET", `/wallet/balance?player_id=${playerId}`);
  const match = /"balance":(-?[0-9.]+)/.exec(answer.text);
  if (answer.status !== 200 || !match?.[1])
    throw new Error(`balance of ${playerId} failed: ${answer.status} ${answer.text}`);
  return match[1];
}

/** The balance D1 holds, in minor units: what the ledger says, not what an object remembers. */
export async function storedBalanceMinor(playerId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT balance_minor FROM players WHERE id = ?")
    .bind(playerId)
    .first<{ balance_minor: number }>();
  if (!row) throw new Error(`no player ${playerId}`);
  return row.balance_minor;
}

/** Invariant 5 for one player: balance = opening balance + archived deltas + the sum of its live ledger deltas. */
export async function ledgerAddsUp(playerId: string): Promise<boolean> {
  const row = await env.DB.prepare(
    `SELECT p.balance_minor AS balance, p.opening_balance_minor
       + COALESCE((SELECT delta_minor FROM archived_totals WHERE player_id = p.id), 0)
       + COALESCE((SELECT SUM(delta_minor) FROM ledger_entries WHERE player_id = p.id), 0) AS expected
     FROM players p WHERE p.id = ?`,
  )
    .bind(playerId)
    .first<{ balance: number; expected: number }>();
  return row !== null && row.balance === row.expected;
}

/** One item of a transaction batch (a 1.00 EUR Debit unless `fields` say otherwise). */
export function batchItem(
  playerId: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    player_id: playerId,
    transaction_id: uniqueId("btx"),
    transaction_type: "Debit",
    provider_id: "thrillpots",
    amount: "1.00",
    currency: "EUR",
    ...fields,
  };
}

/**
 * Makes D1 itself refuse ledger inserts that match `when` (an SQL condition on NEW), from
 * inside the wallet's own write batch. Returns the function that heals it.
 */
export async function failLedgerWrites(when: string): Promise<() => Promise<void>> {
  const trigger = uniqueId("fail").replace(/\W/g, "_");
  await env.DB.exec(
    `CREATE TRIGGER ${trigger} BEFORE INSERT ON ledger_entries WHEN ${when} BEGIN SELECT RAISE(ABORT, 'injected fault'); END;`,
  );
  return async () => {
    await env.DB.exec(`DROP TRIGGER ${trigger}`);
  };
}

/**
 * Sends a request to the Worker exactly as given (raw bytes, a stream, hand-made headers, no
 * signing): for the fuzz and security tests, which need what `wallet` and `admin` tidy away.
 */
export function sendRaw(
  path: string,
  init: RequestInit,
  vars: Partial<Cloudflare.Env> = {},
): Promise<Answer> {
  return send(path, init, { ...env, ...vars });
}

/**
 * What a refused request must leave as it found: every balance, and the row counts of every table
 * a request can write. Compare one taken before with one taken after. A refusal decided on the
 * player's state (funds, currency) is recorded as a "refused" id, so that a copy gets the same
 * answer; that record moves no money and is left out here.
 */
export async function databaseSnapshot(): Promise<Record<string, unknown> | null> {
  return env.DB.prepare(
    `SELECT
       (SELECT group_concat(id || '=' || balance_minor, ',') FROM (SELECT id, balance_minor FROM players ORDER BY id)) AS balances,
       (SELECT count(*) FROM ledger_entries) AS ledger_entries,
       (SELECT count(*) FROM transactions WHERE status != 'refused') AS transactions,
       (SELECT count(*) FROM cancellations) AS cancellations,
       (SELECT count(*) FROM sessions) AS sessions`,
  ).first();
}
