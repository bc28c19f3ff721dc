import { eq } from "drizzle-orm";
import type { LedgerDb } from "./db";
import { players, sessions, type PlayerRow, type SessionRow } from "./schema";

export type NewSession = typeof sessions.$inferInsert;

export async function insertSession(db: LedgerDb, session: NewSession): Promise<void> {
  await db.insert(sessions).values(session).run();
}

export async function findSessionWithPlayer(
  db: LedgerDb,
  token: string,
): Promise<{ session: SessionRow; player: PlayerRow } | undefined> {
  return db
    .select({ session: sessions, player: players })
    .from(sessions)
    .innerJoin(players, eq(players.id, sessions.playerId))
    .where(eq(sessions.token, token))
    .get();
}

/** An opaque, unguessable player token (122 random bits). */
export function newToken(): string {
  return `tok_${crypto.randomUUID().replace(/-/g, "")}`;
}
