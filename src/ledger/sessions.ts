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

/**
 * Deletes every token of the player (launch and session tokens alike), so that none of them
 * authenticates again; answers how many of them were still live at `nowMs`.
 */
export async function revokeSessions(
  db: LedgerDb,
  playerId: string,
  nowMs: number,
): Promise<number> {
  const deleted = await db
    .delete(sessions)
    .where(eq(sessions.playerId, playerId))
    .returning({ expiresAtMs: sessions.expiresAtMs })
    .all();
  return deleted.filter(({ expiresAtMs }) => expiresAtMs === null || expiresAtMs > nowMs).length;
}

/** An opaque, unguessable player token (122 random bits). */
export function newToken(): string {
  return `tok_${crypto.randomUUID().replace(/-/g, "")}`;
}
