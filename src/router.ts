import { Router } from "itty-router";
import { readConfig, type Env } from "./config";
import { createPlayer, createSession, getPlayer, injectFaults, lookupTransaction, playerLedger, reconcileLedger } from "./api/admin";
import { cancelBatch, transactionBatch } from "./api/batch";
import { readBodyCapped } from "./api/body";
import { ApiError } from "./api/errors";
import { errorResponse, jsonResponse } from "./api/json";
import { openApiDocument } from "./api/openapi";
import type { ApiRequest, RequestLog } from "./api/request";
import { WALLET_ENDPOINTS as W } from "./api/routes";
import { cancel, transaction } from "./api/transaction";
import { authenticate, balance } from "./api/wallet";
import { isAdminAuthorization } from "./auth/admin";
import { verifySignature } from "./auth/hmac";

// Middleware returns nothing to pass the request on, or throws an ApiError to answer it.

async function withBody(request: ApiRequest, env: Env, _ctx: ExecutionContext, log: RequestLog): Promise<void> {
  request.log = log;
  request.config = readConfig(env);
  request.bodyBytes = await readBodyCapped(request, request.config.maxBodyBytes);
}

// Invariant 7: the signature is checked over the raw bytes before any JSON is parsed.
async function requireSignature(request: ApiRequest): Promise<void> {
  const header = request.headers.get("x-server-authorization");
  if (!(await verifySignature(request.bodyBytes, header, request.config.hmacSecrets))) {
    throw new ApiError("INVALID_SIGNATURE", "X-Server-Authorization is missing or is not the HMAC-SHA256 of the body");
  }
}

async function requireAdminToken(request: ApiRequest): Promise<void> {
  if (!(await isAdminAuthorization(request.headers.get("authorization"), request.config.adminToken))) {
    throw new ApiError("UNAUTHORIZED", "admin routes need Authorization: Bearer <ADMIN_TOKEN>");
  }
}

function renderError(error: unknown, _request: ApiRequest, _env: Env, _ctx: ExecutionContext, log: RequestLog): Response {
  if (error instanceof ApiError) {
    log.outcome = error.code;
    return errorResponse(error);
  }
  log.outcome = "INTERNAL_ERROR";
  // Never echo internals: the message goes to the log, the client gets a retryable 500.
  console.error(JSON.stringify({ event: "unhandled_error", error: String(error) }));
  return errorResponse(new ApiError("INTERNAL_ERROR", "internal error; safe to retry"));
}

export const router = Router<ApiRequest, [Env, ExecutionContext, RequestLog]>({ catch: renderError });

router
  .get("/health", () => jsonResponse(200, { status: "ok" }))
  .get("/openapi.json", () => jsonResponse(200, openApiDocument()))
  .all("/wallet/*", withBody, requireSignature)
  .post(W.auth, authenticate)
  .get(W.balance, balance)
  .post(W.transaction, transaction)
  .delete(W.cancel_bet, cancel)
  .post(W.transaction_batch, transactionBatch)
  .delete(W.cancel_batch, cancelBatch)
  .all("/admin/*", withBody, requireAdminToken)
  .post("/admin/players", createPlayer)
  .get("/admin/players/:player_id", getPlayer)
  .post("/admin/players/:player_id/sessions", createSession)
  .get("/admin/players/:player_id/ledger", playerLedger)
  .get("/admin/reconcile", reconcileLedger)
  .get("/admin/transactions/:transaction_id", lookupTransaction)
  .post("/admin/faults", injectFaults)
  .all("*", () => {
    throw new ApiError("NOT_FOUND", "no such route");
  });
