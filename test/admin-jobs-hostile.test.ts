import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signBody } from "../src/auth/hmac";
import { admin, expectErrorShape, sendRaw } from "./helpers";

// The routes that start a job (POST /admin/archive/run, POST /admin/reconcile/run), tried as an
// attacker would: a wallet signature instead of the admin token, bodies that do not parse or hold
// lone surrogates, fields of other routes, and bodies over MAX_BODY_BYTES with and without a
// Content-Length. Each is a 4xx in the error format, and no job ran: no run was recorded.

const JOB_ROUTES = ["/admin/archive/run", "/admin/reconcile/run"];

async function runsRecorded(): Promise<{ archive: number; reconcile: number }> {
  const row = await env.DB.prepare(
    "SELECT (SELECT count(*) FROM archive_runs) AS archive, (SELECT count(*) FROM reconcile_runs) AS reconcile",
  ).first<{ archive: number; reconcile: number }>();
  if (!row) throw new Error("no counts");
  return row;
}

describe("the job routes refuse what an attacker sends, and run nothing", () => {
  for (const path of JOB_ROUTES) {
    it(`${path}: a wallet signature, a wrong or missing admin token → 401`, async () => {
      const before = await runsRecorded();
      const body = "{}";
      const signed = await sendRaw(path, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-server-authorization": await signBody(body, env.WALLET_HMAC_SECRET),
        },
        body,
      });
      expectErrorShape(signed, 401, "UNAUTHORIZED");
      expectErrorShape(
        await admin("POST", path, {}, "not-the-admin-token-0123"),
        401,
        "UNAUTHORIZED",
      );
      expectErrorShape(await admin("POST", path, {}, ""), 401, "UNAUTHORIZED");
      expect(await runsRecorded()).toEqual(before);
    });

    it(`${path}: a body over MAX_BODY_BYTES, streamed or with a Content-Length → 413`, async () => {
      const before = await runsRecorded();
      const capBytes = Number(env.MAX_BODY_BYTES);
      const headers = {
        "content-type": "application/json",
        authorization: `Bearer ${env.ADMIN_TOKEN}`,
      };
      const tooBig = `{"x":"${"a".repeat(capBytes)}"}`;
      expectErrorShape(
        await sendRaw(path, { method: "POST", headers, body: tooBig }),
        413,
        "BODY_TOO_LARGE",
      );
      const chunk = new TextEncoder().encode("a".repeat(64 * 1024));
      let sentBytes = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sentBytes > 2 * capBytes) return controller.close();
          sentBytes += chunk.length;
          controller.enqueue(chunk);
        },
      });
      expectErrorShape(
        await sendRaw(path, { method: "POST", headers, body: stream }),
        413,
        "BODY_TOO_LARGE",
      );
      expect(await runsRecorded()).toEqual(before);
    });
  }

  it("/admin/archive/run: malformed JSON, a lone surrogate, another route's fields, a bad time → 400", async () => {
    const before = await runsRecorded();
    for (const body of [
      "{",
      '{"now": "2026-12-04T00:00:00Z"',
      '{"\\ud800": 1}',
      '{"now": "\\udc00"}',
      JSON.stringify({ transaction_id: "t1", amount: "1.00" }),
      JSON.stringify({ now: "not a time" }),
      JSON.stringify({ crash_at: "everywhere" }),
      "[]",
    ]) {
      const answer = await admin("POST", "/admin/archive/run", body);
      expectErrorShape(answer, 400, "INVALID_REQUEST");
    }
    expect(await runsRecorded()).toEqual(before);
  });
});
