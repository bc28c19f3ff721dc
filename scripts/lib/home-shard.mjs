// The wallet's placement of a new player (src/config.ts homeShard), for scripts that seed local
// databases directly: FNV-1a (32-bit) of the id's UTF-8 bytes, modulo the shard count.
// test-node/home-shard.test.ts holds the two to the same answers.

/** @param {string} playerId @param {number} shardCount */
export function homeShard(playerId, shardCount) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(playerId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}
