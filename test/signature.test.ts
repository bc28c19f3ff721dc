import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeSignature, signBody, verifySignature } from "../src/auth/hmac";
import { countRows, expectErrorShape, newPlayer, wallet } from "./helpers";

const encoder = new TextEncoder();

function hexToBase64(hex: string, urlSafe: boolean): string {
  const bytes = hex.match(/../g)!.map((pair) => parseInt(pair, 16));
  const base64 = btoa(String.fromCharCode(...bytes));
  return urlSafe ? base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") : base64;
}

describe("signature over the raw body (invariant 7: nothing unsigned gets in)", () => {
  it("matches a known HMAC-SHA256 test vector (RFC 4231 case 2)", async () => {
    expect(await signBody("what do ya want for nothing?", "Jefe")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("accepts hex in either case and base64 standard or URL-safe", async () => {
    const body = encoder.encode('{"a":1}');
    const hex = await signBody(body, "k".repeat(20));
    for (const header of [
      hex,
      hex.toUpperCase(),
      hexToBase64(hex, false),
      hexToBase64(hex, true),
    ]) {
      expect(await verifySignature(body, header, ["k".repeat(20)])).toBe(true);
    }
  });

  it("refuses a truncated, padded or garbled signature", async () => {
    const hex = await signBody("x", "secret-secret-secret");
    expect(await verifySignature(encoder.encode("x"), hex, ["secret-secret-secret"])).toBe(true);
    expect(decodeSignature(hex.slice(0, 62))).toBeNull();
    for (const header of [hex.slice(0, 62), `${hex}00`, `zz${hex.slice(2)}`, "", `Bearer ${hex}`]) {
      expect(
        await verifySignature(encoder.encode("x"), header, ["secret-secret-secret"]),
        header,
      ).toBe(false);
    }
  });

  it("accepts a signed authenticate and a signed GET over the empty body", async () => {
    const player = await newPlayer();
    const auth = await wallet("POST", "/wallet/authenticate", {
      operator_id: player.operatorId,
      brand_id: player.brandId,
      player_token: player.token,
      source_id: "game1",
      currency: "EUR",
    });
    expect(auth.status).toBe(200);
    const balance = await wallet("GET", `/wallet/balance?player_id=${player.playerId}`);
    expect(balance.status).toBe(200);
  });

  it("refuses a request without X-Server-Authorization, before touching anything", async () => {
    const player = await newPlayer();
    const sessionsBefore = await countRows("sessions", player.playerId);
    const answer = await wallet(
      "POST",
      "/wallet/authenticate",
      {
        operator_id: "thrilltech",
        brand_id: "brand1",
        player_token: player.token,
        currency: "EUR",
      },
      { signature: null },
    );
    expectErrorShape(answer, 401, "INVALID_SIGNATURE");
    expect(await countRows("sessions", player.playerId)).toBe(sessionsBefore);
  });

  it("refuses a signature made with another key", async () => {
    const player = await newPlayer();
    const body = JSON.stringify({
      operator_id: "thrilltech",
      brand_id: "brand1",
      player_token: player.token,
      currency: "EUR",
    });
    const answer = await wallet("POST", "/wallet/authenticate", body, {
      signature: await signBody(body, "not-the-wallet-secret"),
    });
    expectErrorShape(answer, 401, "INVALID_SIGNATURE");
    expect(await countRows("sessions", player.playerId)).toBe(1);
  });

  it("refuses the signature of another body (one changed byte)", async () => {
    const player = await newPlayer();
    const signed = JSON.stringify({
      operator_id: "thrilltech",
      brand_id: "brand1",
      player_token: player.token,
      currency: "EUR",
    });
    const sent = signed.replace("EUR", "USD");
    const answer = await wallet("POST", "/wallet/authenticate", sent, {
      signature: await signBody(signed, env.WALLET_HMAC_SECRET),
    });
    expectErrorShape(answer, 401, "INVALID_SIGNATURE");
  });

  it("signs the exact bytes: the same JSON re-serialised with other spacing is a bad signature", async () => {
    const player = await newPlayer();
    const compact = JSON.stringify({
      operator_id: "thrilltech",
      brand_id: "brand1",
      player_token: player.token,
      currency: "EUR",
    });
    const spaced = JSON.stringify(JSON.parse(compact), null, 2);
    const answer = await wallet("POST", "/wallet/authenticate", spaced, {
      signature: await signBody(compact, env.WALLET_HMAC_SECRET),
    });
    expectErrorShape(answer, 401, "INVALID_SIGNATURE");
    const ok = await wallet("POST", "/wallet/authenticate", spaced);
    expect(ok.status).toBe(200);
  });

  it("refuses a GET balance whose signature is not that of the empty body", async () => {
    const player = await newPlayer();
    const answer = await wallet("GET", `/wallet/balance?player_id=${player.playerId}`, undefined, {
      signature: await signBody(player.playerId, env.WALLET_HMAC_SECRET),
    });
    expectErrorShape(answer, 401, "INVALID_SIGNATURE");
  });

  it("does not accept the admin token in place of a signature", async () => {
    const player = await newPlayer();
    const answer = await wallet("GET", `/wallet/balance?player_id=${player.playerId}`, undefined, {
      signature: null,
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expectErrorShape(answer, 401, "INVALID_SIGNATURE");
  });

  it("refuses an oversized body with 413 before checking anything else", async () => {
    const huge = JSON.stringify({ padding: "x".repeat(Number(env.MAX_BODY_BYTES)) });
    const answer = await wallet("POST", "/wallet/authenticate", huge);
    expectErrorShape(answer, 413, "BODY_TOO_LARGE");
  });
});
