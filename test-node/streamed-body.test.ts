import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../src/auth/hmac";
import { startLocalWallet } from "../scripts/lib/local-wallet.mjs";

// Issue 12.3: a chunked body (no Content-Length) above MAX_BODY_BYTES used to be answered 413 and
// then take wrangler dev down (an empty "✘ [ERROR]", /health 500, then a closed port): the Worker
// cancelled the body while the client was still sending. Against a real wrangler dev, as ThrillGate
// (or anyone, no secret needed) would send it.

type Wallet = Awaited<ReturnType<typeof startLocalWallet>>;
let wallet: Wallet;
const output: string[] = [];

beforeAll(async () => {
  wallet = await startLocalWallet({ log: (line) => output.push(line) });
});

afterAll(async () => {
  await wallet?.stop();
});

const CHUNK_BYTES = 16 * 1024;

/** POSTs `totalBytes` of spaces in chunks, without Content-Length; answers the status (or the error). */
function sendChunked(url: string, path: string, totalBytes: number): Promise<number | string> {
  const target = new URL(path, url);
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: { "content-type": "application/json", "x-server-authorization": "0".repeat(64) },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    req.on("error", (error) => resolve(`error: ${error.message}`));
    const chunk = Buffer.alloc(CHUNK_BYTES, 0x20);
    let sent = 0;
    const write = () => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

describe("an oversized chunked body", () => {
  it("is answered 413, and the server still answers /health and a signed call afterwards (2 MB, then 5 MB)", async () => {
    for (const [round, totalBytes] of [2_000_000, 5 * 1024 * 1024].entries()) {
      const status = await sendChunked(wallet.url, "/wallet/transaction", totalBytes);
      expect(status, `round ${round + 1}`).toBe(413);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const health = await fetch(`${wallet.url}/health`);
      expect(health.status, `round ${round + 1}: ${output.slice(-5).join("\n")}`).toBe(200);
    }
    const signature = await signBody("", wallet.secret);
    const balance = await fetch(`${wallet.url}/wallet/balance?player_id=nobody`, {
      headers: { "x-server-authorization": signature },
    });
    expect(balance.status).toBe(404);
    expect(await balance.json()).toMatchObject({ code: "PLAYER_NOT_FOUND" });
    expect(output.join("\n")).not.toMatch(/✘/);
  });
});
