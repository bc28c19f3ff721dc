import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { homeShard, ledgerShardNames } from "../src/config";
import { shardD1, shardD1s } from "../src/ledger/shards";

describe("shard configuration (LEDGER_SHARDS)", () => {
  it("runs this suite over four shards, DB first, each its own database", async () => {
    expect(ledgerShardNames(env)).toEqual(["DB", "SHARD_1", "SHARD_2", "SHARD_3"]);
    const shards = shardD1s(env);
    expect(shards).toHaveLength(4);
    // A row written to one shard is in that shard only.
    const marker = `shard-config-${crypto.randomUUID()}`;
    await shardD1(env, 2)
      .prepare(
        "INSERT INTO player_directory (player_id, shard, operator_id, brand_id, created_at_ms) VALUES (?, 2, 'op', 'brand', 0)",
      )
      .bind(marker)
      .run();
    const found = await Promise.all(
      shards.map((d1) =>
        d1
          .prepare("SELECT COUNT(*) AS n FROM player_directory WHERE player_id = ?")
          .bind(marker)
          .first("n"),
      ),
    );
    expect(found).toEqual([0, 0, 1, 0]);
  });

  it("reads unset or empty as DB alone, and refuses a list that is not distinct binding names", () => {
    expect(ledgerShardNames({})).toEqual(["DB"]);
    expect(ledgerShardNames({ LEDGER_SHARDS: " " })).toEqual(["DB"]);
    expect(ledgerShardNames({ LEDGER_SHARDS: "DB, SHARD_1" })).toEqual(["DB", "SHARD_1"]);
    for (const bad of ["DB,DB", "DB,,SHARD_1", "db", "DB;SHARD_1", "1DB"])
      expect(() => ledgerShardNames({ LEDGER_SHARDS: bad }), bad).toThrow(
        "invalid configuration: LEDGER_SHARDS",
      );
  });

  it("fails closed on a shard that is not a D1 binding, and on a shard number outside the list", () => {
    expect(() => shardD1s({ ...env, LEDGER_SHARDS: "DB,LEDGER_ARCHIVE" })).toThrow(
      "LEDGER_SHARDS names LEDGER_ARCHIVE, which is not a D1 binding",
    );
    expect(() => shardD1s({ ...env, LEDGER_SHARDS: "DB,NO_SUCH_DB" })).toThrow("not a D1 binding");
    expect(() => shardD1(env, 4)).toThrow("shard 4 is not configured");
  });

  it("places players by a stable hash: the same id always on the same shard, ids spread over all", () => {
    // FNV-1a 32-bit reference values (offset basis 0x811c9dc5): "" and "a".
    expect(homeShard("", 2 ** 32 - 1)).toBe(0x811c9dc5 % (2 ** 32 - 1));
    expect(homeShard("a", 2 ** 32 - 1)).toBe(0xe40c292c % (2 ** 32 - 1));
    const counts = [0, 0, 0, 0];
    for (let n = 0; n < 4000; n++) counts[homeShard(`player_${n}`, 4)] += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    expect(homeShard("player_00001", 4)).toBe(homeShard("player_00001", 4));
    expect(homeShard("anything", 1)).toBe(0);
  });
});
