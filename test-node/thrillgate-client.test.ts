import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { signBody } from "../src/auth/hmac";
import { backoffDelayMs, createThrillGateClient, parseSourceText } from "../scripts/lib/thrillgate-client.mjs";

// ThrillGate's client policy, against a scripted local server: what is retried, how often, how
// long it waits, and that every attempt carries the signature of the exact body.

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

describe("the ThrillGate client", () => {
  it("retries 5xx answers up to 3 times with the same signed body, then answers the last one", async () => {
    const seen: { body: string; signature: string | undefined }[] = [];
    const url = await serve((request, body, response) => {
      seen.push({ body, signature: request.headers["x-server-authorization"] as string | undefined });
      response.writeHead(503, { "content-type": "application/json" }).end('{"error":{"code":"UNAVAILABLE","message":"x"}}');
    });
    const client = createThrillGateClient({ url, secret: SECRET, backoffMs: 1 });
    const answer = await client.wallet("POST", "/wallet/transaction", { amount: "1.00" });
    expect(answer.status).toBe(503);
    expect(answer.attempts).toBe(4);
    expect(seen).toHaveLength(4);
    const signature = await signBody('{"amount":"1.00"}', SECRET);
    expect(seen.every((s) => s.body === '{"amount":"1.00"}' && s.signature === signature)).toBe(true);
  });

  it("stops at the first answer that is not a 5xx, and never retries a 4xx", async () => {
    let calls = 0;
    const url = await serve((_request, _body, response) => {
      calls += 1;
      response.writeHead(calls === 1 ? 500 : 402).end('{"balance":1.50}');
    });
    const answer = await createThrillGateClient({ url, secret: SECRET, backoffMs: 1 }).wallet("GET", "/wallet/balance");
    expect([answer.status, answer.attempts, calls]).toEqual([402, 2, 2]);
    expect(answer.source).toEqual({ balance: "1.50" });
  });

  it("retries a call that times out, and fails with the reason when no attempt is answered", async () => {
    let calls = 0;
    const url = await serve(() => {
      calls += 1; // never answers
    });
    const client = createThrillGateClient({ url, secret: SECRET, timeoutMs: 50, retries: 2, backoffMs: 1 });
    await expect(client.wallet("GET", "/wallet/balance")).rejects.toThrow(/no answer after 3 attempt\(s\): timed out after 50 ms/);
    expect(calls).toBe(3);
  });

  it("waits base × 2^(n−1) before retry n: 100, 200, 400 ms by default", () => {
    const policy = createThrillGateClient({ url: "http://127.0.0.1:1", secret: SECRET }).policy;
    expect([policy.timeoutMs, policy.retries]).toEqual([10_000, 3]);
    expect([1, 2, 3].map((n) => backoffDelayMs(n, policy))).toEqual([100, 200, 400]);
  });

  it("keeps every leaf of an answer as its JSON text, so money and strings stay exact", () => {
    expect(parseSourceText('{"balance":90.00,"b":"90.00","r":[{"n":1e2,"t":true}]}')).toEqual({
      balance: "90.00",
      b: '"90.00"',
      r: [{ n: "1e2", t: "true" }],
    });
  });
});
