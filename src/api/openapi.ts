import { z } from "zod";
import {
  AuthenticateRequest,
  AuthenticateResponse,
  BalanceResponse,
  CancelBatchRequest,
  CancelBatchResponse,
  CancelRequest,
  CancelResponse,
  CreatePlayerRequest,
  CreateSessionRequest,
  decimal,
  ErrorResponse,
  PlayerResponse,
  SessionResponse,
  TransactionBatchRequest,
  TransactionBatchResponse,
  TransactionRequest,
  TransactionResponse,
} from "./schemas";

// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the
// two cannot drift. Checked in as openapi.json (`npm run openapi`); a test fails if it is stale.

function jsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "input",
    override: ({ zodSchema, jsonSchema }) => {
      // Amounts arrive as JSON numbers or decimal strings (see json.ts); both are read exactly.
      if (zodSchema === decimal) {
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        Object.assign(jsonSchema, {
          oneOf: [{ type: "number", minimum: 0 }, { type: "string", pattern: "^(0|[1-9][0-9]*)(\\.[0-9]+)?$" }],
          description: "non-negative amount with no more decimals than the currency has",
        });
      }
    },
  });
}

const json = (schema: z.ZodType) => ({ content: { "application/json": { schema: jsonSchema(schema) } } });
const error = (description: string) => ({ description, ...json(ErrorResponse) });

const signed = [{ serverSignature: [] }];
const admin = [{ adminToken: [] }];
const walletErrors = {
  "400": error("INVALID_REQUEST or CURRENCY_MISMATCH"),
  "401": error("INVALID_SIGNATURE"),
  "403": error("FORBIDDEN: the source address is not in ALLOWED_SOURCE_IPS"),
  "413": error("BODY_TOO_LARGE"),
  "503": error("UNAVAILABLE: nothing applied, safe to retry"),
};

function operation(summary: string, security: unknown, request: z.ZodType | undefined, response: z.ZodType, errors: object) {
  return {
    summary,
    security,
    ...(request ? { requestBody: { required: true, ...json(request) } } : {}),
    responses: { "200": { description: "OK", ...json(response) }, ...errors },
  };
}

function playerIdParameter(where: "path" | "query") {
  return [{ name: "player_id", in: where, required: true, schema: { type: "string", maxLength: 255 } }];
}

export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "edge-wallet: ThrillTech Standard Wallet API",
      version: "0.1.0",
      description: "Every /wallet/* call is signed: X-Server-Authorization = HMAC-SHA256 of the raw body (empty for GET), hex or base64.",
    },
    components: {
      securitySchemes: {
        serverSignature: { type: "apiKey", in: "header", name: "X-Server-Authorization" },
        adminToken: { type: "http", scheme: "bearer" },
      },
    },
    paths: {
      "/wallet/authenticate": {
        post: operation("Trade a player token for a session and the player's profile", signed, AuthenticateRequest, AuthenticateResponse, {
          ...walletErrors,
          "401": error("INVALID_SIGNATURE or INVALID_TOKEN"),
        }),
      },
      "/wallet/balance": {
        get: {
          ...operation("A player's balance", signed, undefined, BalanceResponse, { ...walletErrors, "404": error("PLAYER_NOT_FOUND") }),
          parameters: playerIdParameter("query"),
        },
      },
      "/wallet/transaction": {
        post: operation("Debit, Credit or None, applied exactly once", signed, TransactionRequest, TransactionResponse, {
          ...walletErrors,
          "402": error("INSUFFICIENT_FUNDS (with the balance)"),
          "404": error("PLAYER_NOT_FOUND"),
          "409": error("DUPLICATE_TRANSACTION or TRANSACTION_CANCELLED"),
        }),
      },
      "/wallet/cancel": {
        delete: operation("Reverse a transaction at most once", signed, CancelRequest, CancelResponse, {
          ...walletErrors,
          "402": error("INSUFFICIENT_FUNDS: the credit was spent"),
          "404": error("PLAYER_NOT_FOUND"),
        }),
      },
      "/wallet/transaction/batch": {
        post: operation("Transactions of many players; results in request order", signed, TransactionBatchRequest, TransactionBatchResponse, {
          ...walletErrors,
          "409": error("DUPLICATE_TRANSACTION: one id twice with different content"),
        }),
        delete: operation("Cancel listed transactions, or every one of a batch_id", signed, CancelBatchRequest, CancelBatchResponse, walletErrors),
      },
      "/health": { get: { summary: "Liveness", responses: { "200": { description: "OK" } } } },
      "/admin/players": {
        post: operation("Create a player", admin, CreatePlayerRequest, PlayerResponse, {
          "401": error("UNAUTHORIZED"),
          "409": error("PLAYER_EXISTS"),
        }),
      },
      "/admin/players/{player_id}": {
        get: { ...operation("A player", admin, undefined, PlayerResponse, { "404": error("PLAYER_NOT_FOUND") }), parameters: playerIdParameter("path") },
      },
      "/admin/players/{player_id}/sessions": {
        post: {
          ...operation("Issue a player token", admin, CreateSessionRequest, SessionResponse, { "404": error("PLAYER_NOT_FOUND") }),
          parameters: playerIdParameter("path"),
        },
      },
    },
  };
}
