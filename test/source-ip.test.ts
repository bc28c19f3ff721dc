import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { signBody } from "../src/auth/hmac";
import { isAllowedSource, parseCidr } from "../src/auth/source-ip";
import {
  databaseSnapshot,
  expectErrorShape,
  newPlayer,
  sendRaw,
  uniqueId,
  wallet,
} from "./helpers";

// Issue 12.7: the balance GET is signed with the HMAC of the empty body, a constant the contract
// imposes, so one captured signature reads every balance. The operator's defence is
// ALLOWED_SOURCE_IPS: ThrillGate's addresses as CIDRs, checked against CF-Connecting-IP on every
// /wallet/* call (off when empty); others get 403 FORBIDDEN. And two X-Server-Authorization
// headers are refused, even if both are valid: the wallet never picks one.

const LIST = "192.0.2.0/24, 198.51.100.7, 2001:db8:abcd::/48";
const vars = { ALLOWED_SOURCE_IPS: LIST };

function balanceFrom(playerId: string, address: string | undefined, allowed = LIST) {
  return wallet("GET", `/wallet/balance?player_id=${playerId}`, undefined, {
    headers: address === undefined ? {} : { "cf-connecting-ip": address },
    vars: { ALLOWED_SOURCE_IPS: allowed },
  });
}

describe("ALLOWED_SOURCE_IPS", () => {
  it("lets in addresses inside the list, IPv4 and IPv6, and refuses others with 403 FORBIDDEN before anything is read", async () => {
    const { playerId } = await newPlayer();
    for (const inside of [
      "192.0.2.1",
      "192.0.2.255",
      "198.51.100.7",
      "2001:db8:abcd::1",
      "2001:DB8:ABCD:ffff:ffff:ffff:ffff:ffff",
      "::ffff:192.0.2.9",
    ]) {
      const answer = await balanceFrom(playerId, inside);
      expect(answer.status, `${inside}: ${answer.text}`).toBe(200);
    }
    for (const outside of [
      "192.0.3.1",
      "198.51.100.8",
      "10.0.0.1",
      "2001:db8:abce::1",
      "::1",
      "::ffff:10.0.0.1",
      "not-an-address",
      "",
      "192.0.2.1, 10.0.0.1",
    ]) {
      const answer = await balanceFrom(playerId, outside);
      expectErrorShape(answer, 403, "FORBIDDEN");
      expect(Object.keys(answer.body).sort()).toEqual(["code", "message"]);
    }
    // No CF-Connecting-IP at all, while a list is set.
    expectErrorShape(await balanceFrom(playerId, undefined), 403, "FORBIDDEN");
  });

  it("refuses every wallet route from outside, a valid signed debit included, and changes nothing", async () => {
    const { playerId } = await newPlayer();
    const before = await databaseSnapshot();
    const debit = {
      player_id: playerId,
      transaction_id: uniqueId("ip"),
      transaction_type: "Debit",
      provider_id: "thrillpots",
      amount: "1.00",
    };
    const answer = await wallet("POST", "/wallet/transaction", debit, {
      headers: { "cf-connecting-ip": "203.0.113.5" },
      vars,
    });
    expectErrorShape(answer, 403, "FORBIDDEN");
    expect(await databaseSnapshot()).toEqual(before);
    const inside = await wallet("POST", "/wallet/transaction", debit, {
      headers: { "cf-connecting-ip": "192.0.2.10" },
      vars,
    });
    expect(inside.status).toBe(200);
  });

  it("is off by default: any source, or none, is let in", async () => {
    const { playerId } = await newPlayer();
    expect(env.ALLOWED_SOURCE_IPS ?? "").toBe("");
    expect((await balanceFrom(playerId, "203.0.113.5", "")).status).toBe(200);
    expect((await balanceFrom(playerId, undefined, "")).status).toBe(200);
  });

  it("a list that does not parse fails closed: 500, never open", async () => {
    const { playerId } = await newPlayer();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    for (const bad of [
      "192.0.2.0/33",
      "300.0.0.1",
      "2001:db8::/129",
      "example.com",
      "192.0.2.0/24/1",
    ]) {
      const answer = await balanceFrom(playerId, "192.0.2.1", bad);
      expectErrorShape(answer, 500, "INTERNAL_ERROR");
    }
    expect(errors.mock.calls.every(([line]) => String(line).includes("ALLOWED_SOURCE_IPS"))).toBe(
      true,
    );
    errors.mockRestore();
  });

  it("parses CIDRs as written, and matches by prefix", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({ version: 4, network: 10n << 24n, prefixBits: 8 });
    expect(parseCidr("::/0")).toEqual({ version: 6, network: 0n, prefixBits: 0 });
    const all = [parseCidr("0.0.0.0/0")!];
    expect(isAllowedSource("1.2.3.4", all)).toBe(true);
    expect(isAllowedSource("2001:db8::1", all)).toBe(false);
    for (const bad of [
      "1.2.3",
      "01.2.3.4",
      "1.2.3.4/",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "::ffff:1.2.3",
    ])
      expect(parseCidr(bad), bad).toBeUndefined();
  });
});

describe("two X-Server-Authorization headers", () => {
  it("are refused with 401 even when both carry the valid signature: the wallet never picks one", async () => {
    const { playerId } = await newPlayer();
    const body = JSON.stringify({
      player_id: playerId,
      transaction_id: uniqueId("two"),
      transaction_type: "Debit",
      provider_id: "thrillpots",
      amount: "1.00",
    });
    const signature = await signBody(body, env.WALLET_HMAC_SECRET);
    const before = await databaseSnapshot();
    for (const second of [signature, signature.toUpperCase(), "0".repeat(64)]) {
      const headers = new Headers({ "content-type": "application/json" });
      headers.append("x-server-authorization", signature);
      headers.append("x-server-authorization", second);
      expectErrorShape(
        await sendRaw("/wallet/transaction", { method: "POST", headers, body }),
        401,
        "INVALID_SIGNATURE",
      );
    }
    expect(await databaseSnapshot()).toEqual(before);
  });
});
