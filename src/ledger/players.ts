import { eq } from "drizzle-orm";
import type { LedgerDb } from "./db";
import { players, type PlayerRow } from "./schema";

export type NewPlayer = typeof players.$inferInsert;

/** Inserts a player; false if the id is taken (nothing is changed then). */
export async function insertPlayer(db: LedgerDb, player: NewPlayer): Promise<boolean> {
  const result = await db.insert(players).values(player).onConflictDoNothing().run();
  return result.meta.changes === 1;
}

export async function findPlayer(db: LedgerDb, playerId: string): Promise<PlayerRow | undefined> {
  return db.select().from(players).where(eq(players.id, playerId)).get();
}
