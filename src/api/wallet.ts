import { ledgerDb } from "../ledger/db";
import { inScope } from "../auth/brands";
import { findSessionWithPlayer, newToken, tradeToken } from "../ledger/sessions";
import { playerWallet } from "../wallet/player-wallet";
import { ApiError } from "./errors";
import { jsonResponse, parseJsonBody } from "./json";
import type { ApiRequest } from "./request";
import { AuthenticateRequest, BalanceQuery, parseWith } from "./schemas";
import { moneyNumber, playerProfile, settled } from "./views";

/** POST /wallet/authenticate: trades a player token for a fresh session token and the player's profile. */
export async function authenticate(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(AuthenticateRequest, parseJsonBody(request.bodyBytes));
  const db = ledgerDb(env.DB);
  const nowMs = Date.now();
  const found = await findSessionWithPlayer(db, body.player_token);
  const valid =
    found !== undefined &&
    (found.session.expiresAtMs === null || found.session.expiresAtMs > nowMs) &&
    found.session.operatorId === body.operator_id &&
    found.session.brandId === body.brand_id &&
    // The key that signed must be the brand's own (or the default key, for a brand not listed):
    // a key of brand A cannot open a session of brand B, even with B's token in hand.
    inScope(request.scope, body.brand_id) &&
    inScope(request.scope, found.player.brandId);
  if (!valid) {
    throw new ApiError(
      "INVALID_TOKEN",
      "player token is unknown, expired or not issued for this operator and brand",
    );
  }
  const { player } = found;
  request.log.player_id = player.id;
  // The operator suspended or closed the player (admin API): no new session, so no new play.
  if (player.status !== "active") {
    throw new ApiError("PLAYER_SUSPENDED", `player ${player.id} is ${player.status}`);
  }
  if (body.currency !== player.currency) {
    throw new ApiError(
      "CURRENCY_MISMATCH",
      `the player's currency is ${player.currency}, not ${body.currency}`,
    );
  }

  const token = newToken();
  const traded = await tradeToken(db, body.player_token, {
    token,
    playerId: player.id,
    operatorId: body.operator_id,
    brandId: body.brand_id,
    currency: player.currency,
    sourceId: body.source_id ?? body.game_code ?? null,
    expiresAtMs: nowMs + request.config.tokenTtlSeconds * 1000,
    createdAtMs: nowMs,
  });
  // The operator revoked the player's tokens (admin API) since this one was read.
  if (!traded) throw new ApiError("INVALID_TOKEN", "player token was revoked");
  return jsonResponse(200, {
    id: player.id,
    token,
    currency: player.currency,
    balance: moneyNumber(player.balanceMinor, player.currency),
    operator_id: player.operatorId,
    brand_id: player.brandId,
    ...playerProfile(player),
  });
}

/** GET /wallet/balance?player_id=: answered by the player's Durable Object. */
export async function balance(request: ApiRequest, env: Env): Promise<Response> {
  const { player_id } = parseWith(BalanceQuery, { player_id: request.query.player_id });
  request.log.player_id = player_id;
  const { balanceMinor, currency } = settled(
    await playerWallet(env, player_id).balance(player_id, request.scope),
  );
  return jsonResponse(200, { balance: moneyNumber(balanceMinor, currency) });
}
