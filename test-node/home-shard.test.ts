import { describe, expect, it } from "vitest";
import { homeShard as scriptsHomeShard } from "../scripts/lib/home-shard.mjs";
import { d1Bindings, ledgerShards } from "../scripts/lib/local-wallet.mjs";
import { homeShard } from "../src/config";

describe("the scripts' placement of players (npm start's seed)", () => {
  it("is the wallet's: the same shard for every id and count", () => {
    const ids = [
      "",
      "a",
      "player_00001",
      "ü-spieler",
      "😀",
      ...Array.from({ length: 500 }, (_, n) => `p${n}`),
    ];
    for (const count of [1, 2, 3, 4, 8, 64])
      for (const id of ids)
        expect(scriptsHomeShard(id, count), `${id} over ${count}`).toBe(homeShard(id, count));
  });

  it("reads wrangler.toml's D1 bindings and shards: DB is the index and shard 0", () => {
    const bindings = d1Bindings();
    const shards = ledgerShards();
    expect(bindings[0]).toBe("DB");
    expect(shards[0]).toBe("DB");
    expect(shards.length).toBeGreaterThanOrEqual(2);
    for (const shard of shards) expect(bindings).toContain(shard);
  });
});
