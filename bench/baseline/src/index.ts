// The floor edge-wallet is measured against (bench/run.mjs): per transaction, only what the
// design cannot avoid: verify the HMAC of the raw body, one RPC to the player's Durable Object,
// one D1 insert of one row. No validation, no balance, no idempotency, no logging.
import { DurableObject } from "cloudflare:workers";
// The wallet's own round-trip model (D1_RTT_MS), so both pay the same modelled wait per D1 call.
import { d1Of } from "../../../src/ledger/d1-round-trip";

interface Env {
  DB: D1Database;
  SINK: DurableObjectNamespace<Sink>;
  WALLET_HMAC_SECRET: string;
  FAULT_INJECTION?: string;
  D1_RTT_MS?: string;
}

interface Entry {
  transaction_id: string;
  player_id: string;
  amount: string;
}

const INSERT =
  "INSERT INTO entries (transaction_id, player_id, amount, created_at_ms) VALUES (?, ?, ?, ?)";

export class Sink extends DurableObject<Env> {
  async record(entry: Entry): Promise<void> {
    await d1Of(this.env)
      .prepare(INSERT)
      .bind(entry.transaction_id, entry.player_id, entry.amount, Date.now())
      .run();
  }
}

// Imported once per isolate, as the wallet does, so neither pays for key import per request.
let key: Promise<CryptoKey> | undefined;

async function signed(body: Uint8Array, header: string | null, secret: string): Promise<boolean> {
  if (!header || !/^[0-9a-fA-F]{64}$/.test(header)) return false;
  key ??= crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const digest = Uint8Array.from(header.match(/../g) ?? [], (byte) => parseInt(byte, 16));
  return crypto.subtle.verify("HMAC", await key, digest, body);
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/health") return json(200, { status: "ok" });
    if (request.method !== "POST") return json(404, { error: "no such route" });

    const body = new Uint8Array(await request.arrayBuffer());
    if (
      !(await signed(body, request.headers.get("x-server-authorization"), env.WALLET_HMAC_SECRET))
    ) {
      return json(401, { error: "bad signature" });
    }
    const text = new TextDecoder().decode(body);

    if (pathname === "/wallet/transaction") {
      const entry: Entry = JSON.parse(text);
      await env.SINK.get(env.SINK.idFromName(entry.player_id)).record(entry);
      return json(200, { transaction_id: entry.transaction_id });
    }

    // P3's floor: the whole batch as ONE D1 batch (one round trip, one SQLite transaction).
    if (pathname === "/wallet/transaction/batch") {
      const entries: Entry[] = JSON.parse(text).transactions;
      const nowMs = Date.now();
      const db = d1Of(env);
      const insert = db.prepare(INSERT);
      await db.batch(
        entries.map((e) => insert.bind(e.transaction_id, e.player_id, e.amount, nowMs)),
      );
      // workerd's clock only moves across I/O, so this is the D1 batch's wall time.
      return json(200, { inserted: entries.length, d1_ms: Date.now() - nowMs });
    }
    return json(404, { error: "no such route" });
  },
} satisfies ExportedHandler<Env>;
