import { eq, inArray } from "drizzle-orm";
import type { LedgerDb } from "./db";
import { players, type PlayerRow } from "./schema";

export type NewPlayer = typeof players.$inferInsert;

/** Inserts a player; false if the id is taken (nothing is changed then). */
export async function insertPlayer(db: LedgerDb, player: NewPlayer): Promise<boolean> {
  const result = await db.insert(players).values(player).onConflictDoNothing().run();
  return result.meta.changes === 1;
}

// D1 binds at most 100 parameters per statement.
const IDS_PER_QUERY = 90;

/** The brand of each of these players that exists (the others are absent). */
export async function brandsOfPlayers(
  db: LedgerDb,
  playerIds: string[],
): Promise<Map<string, string>> {
  // The chunks at once: a batch of 1,000 players is 12 queries, about one round trip to D1 in all.
  const chunks = [];
  for (let start = 0; start < playerIds.length; start += IDS_PER_QUERY)
    chunks.push(playerIds.slice(start, start + IDS_PER_QUERY));
  const rows = await Promise.all(
    chunks.map((chunk) =>
      db
        .select({ id: players.id, brandId: players.brandId })
        .from(players)
        .where(inArray(players.id, chunk))
        .all(),
    ),
  );
  return new Map(rows.flat().map((row) => [row.id, row.brandId]));
}

export async function findPlayer(db: LedgerDb, playerId: string): Promise<PlayerRow | undefined> {
  return db.select().from(players).where(eq(players.id, playerId)).get();
}
