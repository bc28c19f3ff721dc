import { eq, sql } from "drizzle-orm";
import type { LedgerDb } from "./db";
import { players, sessions, type PlayerRow, type SessionRow } from "./schema";

export type NewSession = typeof sessions.$inferInsert;

export async function insertSession(db: LedgerDb, session: NewSession): Promise<void> {
  await db.insert(sessions).values(session).run();
}

/**
 * Inserts `session` only if the token it is traded for still exists, in one statement: a revoke
 * (revokeSessions) that ran since the token was read leaves nothing behind, and one that runs
 * after deletes the new token with the others. False if the token was revoked meanwhile.
 */
export async function tradeToken(
  db: LedgerDb,
  presentedToken: string,
  session: Required<NewSession>,
): Promise<boolean> {
  const s = session;
  const result = await db.run(sql`
    INSERT INTO ${sessions} (token, player_id, operator_id, brand_id, currency, source_id, expires_at_ms, created_at_ms)
    SELECT ${s.token}, ${s.playerId}, ${s.operatorId}, ${s.brandId}, ${s.currency}, ${s.sourceId}, ${s.expiresAtMs}, ${s.createdAtMs}
    WHERE EXISTS (SELECT 1 FROM ${sessions} WHERE ${sessions.token} = ${presentedToken})`);
  return result.meta.changes === 1;
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
