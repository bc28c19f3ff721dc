import { ledgerDb } from "../ledger/db";
import { inScope } from "../auth/brands";
import { newToken, tradeToken } from "../ledger/sessions";
import { playerWallet } from "../wallet/player-wallet";
import { ApiError } from "./errors";
import { jsonResponse, parseJsonBody } from "./json";
import type { ApiRequest } from "./request";
import { AuthenticateRequest, BalanceQuery, parseWith } from "./schemas";
import { moneyNumber, playerProfile, settled } from "./views";

const tokenRefused = () =>
  new ApiError(
    "INVALID_TOKEN",
    "player token is unknown, expired, revoked or not issued for this operator and brand",
  );

/**
 * POST /wallet/authenticate: trades a player token for a fresh session token and the player's
 * profile. The checks and the trade are one statement (tradeToken), so a suspend, close or revoke
 * committed before it leaves no session; when no session was made, the same batch says why.
 */
export async function authenticate(request: ApiRequest, env: Env): Promise<Response> {
  const body = parseWith(AuthenticateRequest, parseJsonBody(request.bodyBytes));
  // The key that signed must be the brand's own (or the default key, for a brand not listed): a
  // key of brand A cannot open a session of brand B, even with B's token in hand. Checked before
  // the trade, which then only makes a session for a token and player of this brand.
  if (!inScope(request.scope, body.brand_id)) {
    throw tokenRefused();
  }
  const nowMs = Date.now();
  const token = newToken();
  const { issued, presented } = await tradeToken(ledgerDb(env.DB), {
    presentedToken: body.player_token,
    newToken: token,
    operatorId: body.operator_id,
    brandId: body.brand_id,
    currency: body.currency,
    sourceId: body.source_id ?? body.game_code ?? null,
    nowMs,
    expiresAtMs: nowMs + request.config.tokenTtlSeconds * 1000,
  });
  const valid =
    presented !== undefined &&
    (presented.expiresAtMs === null || presented.expiresAtMs > nowMs) &&
    presented.operatorId === body.operator_id &&
    presented.brandId === body.brand_id &&
    presented.player.brandId === body.brand_id;
  if (!valid) {
    throw tokenRefused();
  }
  const { player } = presented;
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
  // The insert and the read are one transaction: a read that passes every check the insert made
  // means the insert happened.
  if (!issued)
    throw new Error(`authenticate of ${player.id}: token checks passed, no session made`);
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
