import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { LedgerDb } from "./db";
import { players, sessions, type PlayerRow } from "./schema";

export type NewSession = typeof sessions.$inferInsert;

export async function insertSession(db: LedgerDb, session: NewSession): Promise<void> {
  await db.insert(sessions).values(session).run();
}

/** What authenticate asks for: a new session token in exchange for `presentedToken`. */
export interface TokenTrade {
  presentedToken: string;
  newToken: string;
  operatorId: string;
  brandId: string;
  currency: string;
  sourceId: string | null;
  nowMs: number;
  expiresAtMs: number;
}

/** The presented token's row and its player, as D1 held them when the trade was decided. */
export interface PresentedToken {
  expiresAtMs: number | null;
  operatorId: string;
  brandId: string;
  player: PlayerRow;
}

/**
 * Trades `presentedToken` for a new session in one statement, which inserts it only if the
 * presented token exists, is live at `nowMs` and was issued for this operator and brand, and its
 * player is of that brand, active and plays in `currency`. So a revoke (revokeSessions) that ran before leaves no
 * new session and one that runs after deletes it with the others; a suspend or close the player's
 * object committed before leaves no new session either. There is no read before the decision,
 * so no window for either to land in.
 *
 * The presented token and its player are read in the same D1 batch (one transaction, one round
 * trip): the profile to answer when the trade was made, and otherwise the reason it was not. That
 * read only chooses the answer; it never hands out a session.
 */
export async function tradeToken(
  db: LedgerDb,
  trade: TokenTrade,
): Promise<{ issued: boolean; presented: PresentedToken | undefined }> {
  const t = trade;
  const [inserted, rows] = await db.batch([
    db.insert(sessions).select(
      db
        .select({
          token: sql`${t.newToken}`.as("token"),
          playerId: players.id,
          operatorId: sql`${t.operatorId}`.as("operator_id"),
          brandId: sql`${t.brandId}`.as("brand_id"),
          currency: players.currency,
          sourceId: sql`${t.sourceId}`.as("source_id"),
          expiresAtMs: sql`${t.expiresAtMs}`.as("expires_at_ms"),
          createdAtMs: sql`${t.nowMs}`.as("created_at_ms"),
        })
        .from(sessions)
        .innerJoin(players, eq(players.id, sessions.playerId))
        .where(
          and(
            eq(sessions.token, t.presentedToken),
            or(isNull(sessions.expiresAtMs), gt(sessions.expiresAtMs, t.nowMs)),
            eq(sessions.operatorId, t.operatorId),
            eq(sessions.brandId, t.brandId),
            eq(players.brandId, t.brandId),
            eq(players.status, "active"),
            eq(players.currency, t.currency),
          ),
        ),
    ),
    db
      // Aliased: in a D1 batch drizzle maps rows by column name, and the player's operator_id,
      // brand_id and created_at_ms would overwrite the session's.
      .select({
        player: players,
        expiresAtMs: sql<number | null>`${sessions.expiresAtMs}`.as("session_expires_at_ms"),
        operatorId: sql<string>`${sessions.operatorId}`.as("session_operator_id"),
        brandId: sql<string>`${sessions.brandId}`.as("session_brand_id"),
      })
      .from(sessions)
      .innerJoin(players, eq(players.id, sessions.playerId))
      .where(eq(sessions.token, t.presentedToken)),
  ]);
  return { issued: inserted.meta.changes === 1, presented: rows[0] };
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
