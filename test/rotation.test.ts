import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signBody } from "../src/auth/hmac";
import { expectErrorShape, newPlayer, wallet } from "./helpers";

const OLD_SECRET = "the-secret-being-retired-0123";

async function balanceSignedWith(playerId: string, secret: string, vars: Partial<Cloudflare.Env>) {
  return wallet("GET", `/wallet/balance?player_id=${playerId}`, undefined, {
    signature: await signBody("", secret),
    vars,
  });
}

describe("HMAC key rotation", () => {
  it("accepts the previous secret while it is configured, and the current one always", async () => {
    const { playerId } = await newPlayer();
    const window = { WALLET_HMAC_SECRET_PREVIOUS: OLD_SECRET };
    expect((await balanceSignedWith(playerId, OLD_SECRET, window)).status).toBe(200);
    expect((await balanceSignedWith(playerId, env.WALLET_HMAC_SECRET, window)).status).toBe(200);
  });

  it("refuses the previous secret once it is removed", async () => {
    const { playerId } = await newPlayer();
    expectErrorShape(await balanceSignedWith(playerId, OLD_SECRET, {}), 401, "INVALID_SIGNATURE");
  });

  it("refuses the previous secret after WALLET_HMAC_SECRET_PREVIOUS_UNTIL, and accepts it before", async () => {
    const { playerId } = await newPlayer();
    const before = {
      WALLET_HMAC_SECRET_PREVIOUS: OLD_SECRET,
      WALLET_HMAC_SECRET_PREVIOUS_UNTIL: new Date(Date.now() + 60_000).toISOString(),
    };
    const after = {
      WALLET_HMAC_SECRET_PREVIOUS: OLD_SECRET,
      WALLET_HMAC_SECRET_PREVIOUS_UNTIL: new Date(Date.now() - 1_000).toISOString(),
    };
    expect((await balanceSignedWith(playerId, OLD_SECRET, before)).status).toBe(200);
    expectErrorShape(
      await balanceSignedWith(playerId, OLD_SECRET, after),
      401,
      "INVALID_SIGNATURE",
    );
    expect((await balanceSignedWith(playerId, env.WALLET_HMAC_SECRET, after)).status).toBe(200);
  });

  it("a malformed rotation setting fails closed with a 500, not an open door", async () => {
    const { playerId } = await newPlayer();
    const answer = await balanceSignedWith(playerId, OLD_SECRET, {
      WALLET_HMAC_SECRET_PREVIOUS: OLD_SECRET,
      WALLET_HMAC_SECRET_PREVIOUS_UNTIL: "soon",
    });
    expectErrorShape(answer, 500, "INTERNAL_ERROR");
    expect(answer.text).not.toContain(OLD_SECRET);
  });
});
