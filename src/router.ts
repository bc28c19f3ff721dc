import { Router } from "itty-router";
import { readConfig } from "./config";
import {
  createPlayer,
  getArchiveStatus,
  runArchiveNow,
  createSession,
  getPlayer,
  injectFaults,
  lastReconcile,
  lookupTransaction,
  playerLedger,
  reconcileLedger,
  revokePlayerSessions,
  runReconcile,
  setPlayerStatus,
} from "./api/admin";
import { cancelBatch, transactionBatch } from "./api/batch";
import { readBodyCapped } from "./api/body";
import { ApiError } from "./api/errors";
import { errorResponse, jsonResponse } from "./api/json";
import { dailyReport, ledgerExport } from "./api/reports";
import type { ApiRequest, RequestLog } from "./api/request";
import { WALLET_ENDPOINTS as W } from "./api/routes";
import { cancel, transaction } from "./api/transaction";
import { transfer } from "./api/transfers";
import { decodedParams, decodedQuery } from "./api/url";
import { authenticate, balance } from "./api/wallet";
import { isAdminAuthorization } from "./auth/admin";
import { scopeLabel } from "./auth/brands";
import { signerOf } from "./auth/hmac";
import { isAllowedSource } from "./auth/source-ip";

// Middleware returns nothing to pass the request on, or throws an ApiError to answer it.

/**
 * Before any route: the query, and the path parameters of whichever route matches, decoded once
 * (api/url.ts). itty-router assigns `params` on each match, so the assignment itself decodes; the
 * query is decoded when a handler first reads it, after the signature or admin token was checked.
 */
function decodeUrl(request: ApiRequest): void {
  let query: ApiRequest["query"] | undefined;
  Object.defineProperty(request, "query", {
    configurable: true,
    get: () => (query ??= decodedQuery(request.url)),
  });
  let params: Record<string, string> = {};
  Object.defineProperty(request, "params", {
    configurable: true,
    get: () => params,
    set: (raw: Record<string, string>) => {
      params = decodedParams(raw);
    },
  });
}

function withConfig(request: ApiRequest, env: Env, _ctx: ExecutionContext, log: RequestLog): void {
  request.log = log;
  request.config = readConfig(env);
}

async function withBody(request: ApiRequest): Promise<void> {
  request.bodyBytes = await readBodyCapped(request, request.config.maxBodyBytes);
}

// ALLOWED_SOURCE_IPS (off when empty): checked before the body is read or the signature is.
function requireAllowedSource(request: ApiRequest): void {
  const allowed = request.config.allowedSourceIps;
  if (allowed.length > 0 && !isAllowedSource(request.headers.get("cf-connecting-ip"), allowed)) {
    throw new ApiError("FORBIDDEN", "this source address may not call the wallet");
  }
}

// Invariant 7: the signature is checked over the raw bytes before any JSON is parsed. The key that
// matches names the signing brand, and the request is held to that brand's players from here on.
async function requireSignature(request: ApiRequest): Promise<void> {
  const header = request.headers.get("x-server-authorization");
  const signer = await signerOf(request.bodyBytes, header, request.config.hmacKeys);
  if (!signer) {
    throw new ApiError(
      "INVALID_SIGNATURE",
      "X-Server-Authorization is missing or is not the HMAC-SHA256 of the body",
    );
  }
  request.scope = { brand: signer.brand, listed: request.config.listedBrands };
  request.log.signed_by = scopeLabel(request.scope);
}

async function requireAdminToken(request: ApiRequest): Promise<void> {
  if (
    !(await isAdminAuthorization(request.headers.get("authorization"), request.config.adminToken))
  ) {
    throw new ApiError("UNAUTHORIZED", "admin routes need Authorization: Bearer <ADMIN_TOKEN>");
  }
}

function renderError(
  error: unknown,
  _request: ApiRequest,
  _env: Env,
  _ctx: ExecutionContext,
  log: RequestLog,
): Response {
  if (error instanceof ApiError) {
    log.outcome = error.code;
    return errorResponse(error);
  }
  log.outcome = "INTERNAL_ERROR";
  // Never echo internals: the message goes to the log, the client gets a retryable 500.
  console.error(JSON.stringify({ event: "unhandled_error", error: String(error) }));
  return errorResponse(new ApiError("INTERNAL_ERROR", "internal error; safe to retry"));
}

export const router = Router<ApiRequest, [Env, ExecutionContext, RequestLog]>({
  before: [decodeUrl],
  catch: renderError,
});

router
  .get("/health", () => jsonResponse(200, { status: "ok" }))
  .all("/wallet/*", withConfig, requireAllowedSource, withBody, requireSignature)
  .post(W.auth, authenticate)
  .get(W.balance, balance)
  .post(W.transaction, transaction)
  .delete(W.cancel_bet, cancel)
  .post(W.transaction_batch, transactionBatch)
  .delete(W.cancel_batch, cancelBatch)
  .all("/admin/*", withConfig, withBody, requireAdminToken)
  .post("/admin/players", createPlayer)
  .get("/admin/players/:player_id", getPlayer)
  .patch("/admin/players/:player_id", setPlayerStatus)
  .post("/admin/players/:player_id/sessions", createSession)
  .delete("/admin/players/:player_id/sessions", revokePlayerSessions)
  .post("/admin/players/:player_id/transfers", transfer)
  .get("/admin/players/:player_id/ledger", playerLedger)
  .get("/admin/reconcile", reconcileLedger)
  .get("/admin/reconcile/last", lastReconcile)
  .post("/admin/reconcile/run", runReconcile)
  .get("/admin/transactions/:transaction_id", lookupTransaction)
  .get("/admin/reports/daily", dailyReport)
  .get("/admin/ledger/export", ledgerExport)
  .get("/admin/archive", getArchiveStatus)
  .post("/admin/archive/run", runArchiveNow)
  .post("/admin/faults", injectFaults)
  .all("*", () => {
    throw new ApiError("NOT_FOUND", "no such route");
  });
