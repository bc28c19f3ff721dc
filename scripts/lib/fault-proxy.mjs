// A proxy on 127.0.0.1 in front of any wallet, for the simulator's failure paths: it forwards
// every request as it came (method, headers with the signature, body bytes) and, for the requests
// a plan names (method, path and transaction_id), makes the network misbehave the way ThrillGate
// meets it: a 503 from the edge before the wallet saw anything ("fail"), the wallet's answer
// replaced by a 503 after the wallet applied it ("lose"), or the answer held back so the caller
// times out ("hold", optionally forwarding late so the first attempt reaches the wallet together
// with the retry sent after its time-out). Works against a wallet without fault injection.
import { createServer } from "node:http";

const UNAVAILABLE = JSON.stringify({
  code: "UNAVAILABLE",
  message: "injected by the simulator's proxy",
});

/** @param {string} target the wallet's origin */
export async function startFaultProxy(target) {
  const plans = [];
  const held = new Set();

  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks);
      const plan = takePlan(request.method, new URL(request.url, "http://proxy").pathname, body);
      try {
        if (plan?.kind === "fail") return answer(response, 503, UNAVAILABLE);
        if (plan?.forwardAfterMs)
          await new Promise((resolve) => setTimeout(resolve, plan.forwardAfterMs));
        const forwarded = await forward(request, body);
        if (plan?.kind === "lose") return answer(response, 503, UNAVAILABLE);
        if (plan?.kind === "hold") {
          // The wallet has answered; the caller never hears it and times out.
          held.add(response);
          response.on("close", () => held.delete(response));
          return;
        }
        answer(response, forwarded.status, forwarded.text);
      } catch (error) {
        answer(response, 502, JSON.stringify({ code: "BAD_GATEWAY", message: String(error) }));
      }
    });
  });

  function takePlan(method, path, body) {
    let transactionId;
    try {
      transactionId = JSON.parse(body.toString("utf8"))?.transaction_id;
    } catch {
      return undefined;
    }
    const plan = plans.find(
      (p) =>
        p.remaining > 0 &&
        p.method === method &&
        p.path === path &&
        p.transactionId === transactionId,
    );
    if (!plan) return undefined;
    const first = plan.remaining === plan.times;
    plan.remaining -= 1;
    return { kind: plan.kind, forwardAfterMs: first ? plan.firstForwardAfterMs : 0 };
  }

  async function forward(request, body) {
    const headers = {};
    for (const name of [
      "content-type",
      "x-server-authorization",
      "authorization",
      "x-request-id",
    ]) {
      if (request.headers[name] !== undefined) headers[name] = request.headers[name];
    }
    const method = request.method;
    const response = await fetch(`${target}${request.url}`, {
      method,
      headers,
      body: method === "GET" || method === "HEAD" ? undefined : body,
    });
    return { status: response.status, text: await response.text() };
  }

  function answer(response, status, text) {
    if (!response.destroyed)
      response.writeHead(status, { "content-type": "application/json" }).end(text);
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    /**
     * The next `times` requests of `method path` carrying `transactionId` misbehave as `kind`
     * ("fail" | "lose" | "hold"); `firstForwardAfterMs` delays forwarding the first of them.
     */
    plan(
      kind,
      {
        method = "POST",
        path = "/wallet/transaction",
        transactionId,
        times = 1,
        firstForwardAfterMs = 0,
      },
    ) {
      plans.push({
        kind,
        method,
        path,
        transactionId,
        times,
        remaining: times,
        firstForwardAfterMs,
      });
    },
    async stop() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
