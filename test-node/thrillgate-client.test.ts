import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { signBody } from "../src/auth/hmac";
import {
  attemptTimeoutMs,
  createThrillGateClient,
  parseSourceText,
  ruleFor,
} from "../scripts/lib/thrillgate-client.mjs";

// ThrillGate's client behaviour, against a scripted local server: what is retried, how often, how
// each attempt's timeout grows, what is cancelled, what goes pending, and that every attempt
// carries the signature of the exact body.

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;
let server: Server | undefined;

async function serve(handler: Handler): Promise<string> {
  server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => handler(request, body, response));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

const SECRET = "client-test-secret-0123456789";

type Seen = {
  method: string;
  url: string;
  body: string;
  signature: string | undefined;
  atMs: number;
};

/** A server that answers each request with `answer(n, seen)` (n from 1), or never if it returns undefined. */
async function scripted(
  answer: (n: number, seen: Seen) => [number, string] | undefined,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const url = await serve((request, body, response) => {
    const entry = {
      method: request.method ?? "",
      url: request.url ?? "",
      body,
      signature: request.headers["x-server-authorization"] as string | undefined,
      atMs: performance.now(),
    };
    seen.push(entry);
    const reply = answer(seen.length, entry);
    if (reply) response.writeHead(reply[0], { "content-type": "application/json" }).end(reply[1]);
  });
  return { url, seen };
}

const REFUSED = '{"code":"INSUFFICIENT_FUNDS","message":"x","balance":0.50}';
const UNAVAILABLE = '{"code":"UNAVAILABLE","message":"x"}';

describe("the ThrillGate client", () => {
  it("retries a 5xx 3 times at once with the same signed body, then answers the last one", async () => {
    const { url, seen } = await scripted(() => [503, UNAVAILABLE]);
    const client = createThrillGateClient({ url, secret: SECRET });
    const answer = await client.wallet("POST", "/wallet/transaction", { amount: "1.00" });
    expect([answer.status, answer.attempts, answer.ok]).toEqual([503, 4, false]);
    expect(seen).toHaveLength(4);
    const signature = await signBody('{"amount":"1.00"}', SECRET);
    expect(seen.every((s) => s.body === '{"amount":"1.00"}' && s.signature === signature)).toBe(
      true,
    );
  });

  it("retries a 4xx too when no rule says otherwise, as ThrillGate does by default", async () => {
    const { url, seen } = await scripted(() => [402, REFUSED]);
    const answer = await createThrillGateClient({ url, secret: SECRET }).wallet(
      "POST",
      "/wallet/transaction",
      {},
    );
    expect([answer.status, answer.attempts, seen.length]).toEqual([402, 4, 4]);
    expect(answer.source).toMatchObject({ balance: "0.50" });
  });

  it("stops at a failure whose rule says must_retry false", async () => {
    const rules = { "402:INSUFFICIENT_FUNDS": { must_retry: false, must_cancel: false } };
    const refused = await scripted(() => [402, REFUSED]);
    const answer = await createThrillGateClient({
      url: refused.url,
      secret: SECRET,
      errorResponseRules: rules,
    }).wallet("POST", "/wallet/transaction", {});
    expect([answer.status, answer.attempts]).toEqual([402, 1]);
  });

  it("applies a rule to its own status and code only: 402 with another code is retried", async () => {
    const rules = { "402:INSUFFICIENT_FUNDS": { must_retry: false, must_cancel: false } };
    const other = await scripted((n) =>
      n === 1 ? [402, '{"code":"OTHER","message":""}'] : [200, "{}"],
    );
    const second = await createThrillGateClient({
      url: other.url,
      secret: SECRET,
      errorResponseRules: rules,
    }).wallet("GET", "/wallet/balance");
    expect([second.status, second.attempts]).toEqual([200, 2]);
  });

  it("lets each attempt time out after timeout × factor^(n−1) and retries at once, without a pause", async () => {
    const { url, seen } = await scripted(() => undefined); // never answers
    const client = createThrillGateClient({ url, secret: SECRET, timeoutMs: 200, retries: 3 });
    await expect(client.wallet("GET", "/wallet/balance")).rejects.toThrow(
      /no answer after 4 attempt\(s\): timed out after 1600 ms/,
    );
    expect(seen).toHaveLength(4);
    // Arrivals at the server: each gap is the previous attempt's timeout, give or take the
    // scheduling of a busy machine, and never a pause on top of it.
    const gaps = seen.slice(1).map((s, i) => s.atMs - seen[i]!.atMs);
    [200, 400, 800].forEach((timeoutMs, i) => {
      expect(gaps[i]).toBeGreaterThan(timeoutMs - 60);
      expect(gaps[i]).toBeLessThan(timeoutMs + 250);
    });
  });

  it("ThrillGate's defaults: 10 s growing by 2 (10, 20, 40, 80 s), 3 retries, no sleep, no rules", () => {
    const policy = createThrillGateClient({ url: "http://127.0.0.1:1", secret: SECRET }).policy;
    expect([policy.retries, policy.backoffSleep, policy.errorResponseRules]).toEqual([
      3,
      false,
      {},
    ]);
    expect([1, 2, 3, 4].map((n) => attemptTimeoutMs(n, policy))).toEqual([
      10_000, 20_000, 40_000, 80_000,
    ]);
    expect(ruleFor({ status: 400, body: { code: "INVALID_REQUEST" } }, {})).toEqual({
      must_retry: true,
      must_cancel: true,
    });
  });

  it("cancels a Debit after its last failed attempt, with its transaction id", async () => {
    const { url, seen } = await scripted((_n, s) =>
      s.method === "DELETE" ? [200, '{"balance":"0.50"}'] : [402, REFUSED],
    );
    const debit = {
      player_id: "p1",
      transaction_id: "tx-1",
      transaction_type: "Debit",
      amount: "1.00",
    };
    const result = await createThrillGateClient({ url, secret: SECRET }).debit(debit);
    expect(result.outcome).toBe("cancelled");
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      ...Array(4).fill("POST /wallet/transaction"),
      "DELETE /wallet/cancel",
    ]);
    expect(JSON.parse(seen[4]!.body)).toEqual({ transaction_id: "tx-1", player_id: "p1" });
  });

  it("does not cancel a Debit when the rule for its failure says must_cancel false", async () => {
    const { url, seen } = await scripted(() => [402, REFUSED]);
    const rules = { "402:INSUFFICIENT_FUNDS": { must_retry: false, must_cancel: false } };
    const result = await createThrillGateClient({
      url,
      secret: SECRET,
      errorResponseRules: rules,
    }).debit({ transaction_id: "tx-2", player_id: "p1" });
    expect([result.outcome, seen.length]).toEqual(["failed", 1]);
  });

  it("never cancels a Credit: after its last failed attempt it is pending, and sent again until accepted", async () => {
    const { url, seen } = await scripted((n) =>
      n <= 5 ? [503, UNAVAILABLE] : [200, '{"balance":2.00}'],
    );
    const client = createThrillGateClient({ url, secret: SECRET });
    const credit = {
      player_id: "p1",
      transaction_id: "tx-3",
      transaction_type: "Credit",
      amount: "1.00",
    };
    expect((await client.credit(credit)).outcome).toBe("pending");
    expect(client.pendingCredits()).toEqual([credit]);
    const resent = await client.resendPending();
    expect([resent[0]!.status, resent[0]!.attempts]).toEqual([200, 2]);
    expect(client.pendingCredits()).toEqual([]);
    expect(seen.every((s) => s.method === "POST")).toBe(true);
  });

  it("keeps every leaf of an answer as its JSON text, so money and strings stay exact", () => {
    expect(parseSourceText('{"balance":90.00,"b":"90.00","r":[{"n":1e2,"t":true}]}')).toEqual({
      balance: "90.00",
      b: '"90.00"',
      r: [{ n: "1e2", t: "true" }],
    });
  });
});
