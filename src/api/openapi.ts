import * as z from "zod";
import { WALLET_ENDPOINTS } from "./routes";
import {
  AuthenticateRequest,
  AuthenticateResponse,
  BalanceResponse,
  CancelBatchItem,
  CancelBatchRequest,
  CancelBatchResponse,
  CancelRequest,
  CancelResponse,
  CreatePlayerRequest,
  CreateSessionRequest,
  DailyReportQuery,
  DailyReportResponse,
  decimal,
  ErrorResponse,
  ArchiveRunRequest,
  ArchiveRunResponse,
  ArchiveStatusResponse,
  FaultRequest,
  FaultResponse,
  HealthResponse,
  LedgerExportEntry,
  LedgerExportQuery,
  LedgerResponse,
  PlayerResponse,
  PlayerStatusRequest,
  ReconcileResponse,
  ReconcileRunResponse,
  RevokeSessionsResponse,
  SessionResponse,
  TransactionBatchRequest,
  TransactionBatchResponse,
  TransactionLookupResponse,
  TransactionRequest,
  TransactionResponse,
  TransferRequest,
  TransferResponse,
} from "./schemas";

// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the
// two cannot drift. Written to public/openapi.json (`npm run openapi`) and served from there as a
// static asset, so this module and zod's JSON Schema code stay out of the Worker; a test fails if it is stale,
// another if a route of the router is missing, and every answer the test suite receives is
// validated against it (test/helpers.ts). `npm run lint` checks it with Redocly's recommended rules.

function jsonSchema(schema: z.core.$ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "input",
    override: ({ zodSchema, jsonSchema }) => {
      // Amounts arrive as JSON numbers or decimal strings (see json.ts); both are read exactly.
      if (zodSchema === decimal) {
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        Object.assign(jsonSchema, {
          oneOf: [
            { type: "number", minimum: 0 },
            { type: "string", pattern: "^(0|[1-9][0-9]*)(\\.[0-9]+)?$" },
          ],
          description: "non-negative amount with no more decimals than the currency has",
        });
      }
    },
  });
  return rest;
}

const content = (schema: Record<string, unknown>) => ({
  content: { "application/json": { schema } },
});
const json = (schema: z.ZodType) => content(jsonSchema(schema));
const error = (description: string) => ({ description, ...json(ErrorResponse) });

/** A batch body is an object with `transactions`, or the bare array of its items (see batch.ts). */
function objectOrBareArray(object: z.ZodType, item: z.ZodType) {
  return { oneOf: [jsonSchema(object), { type: "array", minItems: 1, items: jsonSchema(item) }] };
}

const signed = [{ serverSignature: [] }];
const admin = [{ adminToken: [] }];
// Every route that reads a body (all of /wallet/* and /admin/*) can answer these; a deployment
// with a missing or short secret answers 500 everywhere.
const commonErrors = {
  "400": error("INVALID_REQUEST: malformed JSON, missing fields, wrong types"),
  "413": error("BODY_TOO_LARGE"),
  "500": error(
    "INTERNAL_ERROR: an unexpected fault or a misconfigured deployment; nothing half-applied, safe to retry",
  ),
};
const walletErrors = {
  ...commonErrors,
  "400": error("INVALID_REQUEST or CURRENCY_MISMATCH"),
  "401": error("INVALID_SIGNATURE"),
  "403": error("FORBIDDEN: the source address is not in ALLOWED_SOURCE_IPS"),
  "503": error("UNAVAILABLE: nothing applied, safe to retry"),
};
const adminErrors = { ...commonErrors, "401": error("UNAUTHORIZED: no or wrong bearer token") };

type Responses = Record<string, object>;

function operation(
  operationId: string,
  summary: string,
  security: unknown,
  request: Record<string, unknown> | undefined,
  success: { status: string; schema: z.ZodType },
  errors: Responses,
) {
  return {
    operationId,
    summary,
    security,
    ...(request ? { requestBody: { required: true, ...content(request) } } : {}),
    responses: { [success.status]: { description: "OK", ...json(success.schema) }, ...errors },
  };
}

const ok = (schema: z.ZodType) => ({ status: "200", schema });
const created = (schema: z.ZodType) => ({ status: "201", schema });

function parameter(name: string, where: "path" | "query", schema: object, required = true) {
  return { name, in: where, required, schema };
}
const playerId = (where: "path" | "query") =>
  parameter("player_id", where, { type: "string", minLength: 1, maxLength: 255 });

/** The query parameters of a GET, from the zod object that parses them. */
function queryParameters(query: z.ZodObject) {
  return Object.entries(query.shape).map(([name, field]) =>
    // Required unless absent is valid (optional, or with a default).
    parameter(name, "query", jsonSchema(field), !z.safeParse(field, undefined).success),
  );
}

/** itty-router's `:name` segments as OpenAPI's `{name}`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z_]+)/g, "{$1}");

export function openApiDocument() {
  const W = WALLET_ENDPOINTS;
  return {
    openapi: "3.1.0",
    info: {
      title: "edge-wallet: ThrillTech Standard Wallet API",
      version: "0.1.0",
      description:
        "Every /wallet/* call is signed: X-Server-Authorization = HMAC-SHA256 of the raw body (empty for GET), hex or base64. Every /admin/* call carries the operator's bearer token.",
      license: { name: "Proprietary: the operator's own", identifier: "LicenseRef-Proprietary" },
    },
    servers: [
      {
        url: "http://127.0.0.1:8787",
        description:
          "local wallet (npm start); a deployment serves the same paths at its own origin",
      },
    ],
    components: {
      securitySchemes: {
        serverSignature: { type: "apiKey", in: "header", name: "X-Server-Authorization" },
        adminToken: { type: "http", scheme: "bearer" },
      },
    },
    paths: {
      [W.auth]: {
        post: operation(
          "authenticate",
          "Trade a player token for a session and the player's profile",
          signed,
          jsonSchema(AuthenticateRequest),
          ok(AuthenticateResponse),
          {
            ...walletErrors,
            "401": error("INVALID_SIGNATURE or INVALID_TOKEN"),
            "403": error(
              "FORBIDDEN, or PLAYER_SUSPENDED: the operator suspended or closed the player",
            ),
          },
        ),
      },
      [W.balance]: {
        get: {
          ...operation("balance", "A player's balance", signed, undefined, ok(BalanceResponse), {
            ...walletErrors,
            "404": error("PLAYER_NOT_FOUND"),
          }),
          parameters: [playerId("query")],
        },
      },
      [W.transaction]: {
        post: operation(
          "transaction",
          "Debit, Credit or None, applied exactly once",
          signed,
          jsonSchema(TransactionRequest),
          ok(TransactionResponse),
          {
            ...walletErrors,
            "402": error("INSUFFICIENT_FUNDS (with the balance)"),
            "403": error(
              "FORBIDDEN, or PLAYER_SUSPENDED: a Debit of a suspended or closed player (recorded: a retry answers the same)",
            ),
            "404": error("PLAYER_NOT_FOUND"),
            "409": error("DUPLICATE_TRANSACTION or TRANSACTION_CANCELLED"),
          },
        ),
      },
      [W.cancel_bet]: {
        delete: operation(
          "cancel",
          "Reverse a transaction at most once",
          signed,
          jsonSchema(CancelRequest),
          ok(CancelResponse),
          {
            ...walletErrors,
            "402": error("INSUFFICIENT_FUNDS: the credit was spent"),
            "404": error("PLAYER_NOT_FOUND"),
            "409": error(
              "DUPLICATE_TRANSACTION: the id is an operator transfer, which a cancel never reverses",
            ),
          },
        ),
      },
      [W.transaction_batch]: {
        post: operation(
          "transactionBatch",
          "Transactions of many players; results in request order",
          signed,
          objectOrBareArray(TransactionBatchRequest, TransactionRequest),
          ok(TransactionBatchResponse),
          {
            ...walletErrors,
            "404": error(
              "PLAYER_NOT_FOUND (where WALLET_HMAC_SECRETS lists brands): an item's player is not of the signing brand or does not exist; nothing was applied",
            ),
            "409": error("DUPLICATE_TRANSACTION: one id twice with different content"),
          },
        ),
        delete: operation(
          "cancelBatch",
          "Cancel listed transactions, or every one of a batch_id",
          signed,
          objectOrBareArray(CancelBatchRequest, CancelBatchItem),
          ok(CancelBatchResponse),
          {
            ...walletErrors,
            "404": error(
              "PLAYER_NOT_FOUND (where WALLET_HMAC_SECRETS lists brands): an item names a player not of the signing brand or that does not exist; nothing was cancelled",
            ),
            "503": error(
              "UNAVAILABLE: safe to retry. With batch_id alone also when the call's time budget (BATCH_CANCEL_BUDGET_MS) ran out with items still applied: what it reversed is committed, the message says how many items remain, and the retry goes on from there",
            ),
          },
        ),
      },
      "/health": {
        get: {
          operationId: "health",
          summary: "Liveness",
          security: [],
          responses: { "200": { description: "OK", ...json(HealthResponse) } },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openApiDocument",
          summary: "This document",
          security: [],
          responses: {
            "200": { description: "The OpenAPI 3.1 document", ...content({ type: "object" }) },
          },
        },
      },
      "/admin/players": {
        post: operation(
          "createPlayer",
          "Create a player",
          admin,
          jsonSchema(CreatePlayerRequest),
          created(PlayerResponse),
          {
            ...adminErrors,
            "409": error("PLAYER_EXISTS"),
          },
        ),
      },
      [openApiPath("/admin/players/:player_id")]: {
        get: {
          ...operation("getPlayer", "A player", admin, undefined, ok(PlayerResponse), {
            ...adminErrors,
            "404": error("PLAYER_NOT_FOUND"),
          }),
          parameters: [playerId("path")],
        },
        patch: {
          ...operation(
            "setPlayerStatus",
            "Set a player's status: active, suspended or closed",
            admin,
            jsonSchema(PlayerStatusRequest),
            ok(PlayerResponse),
            {
              ...adminErrors,
              "404": error("PLAYER_NOT_FOUND"),
              "409": error("BALANCE_NOT_ZERO (with the balance): transfer it out before closing"),
              "503": error("UNAVAILABLE: nothing changed, safe to retry"),
            },
          ),
          parameters: [playerId("path")],
        },
      },
      [openApiPath("/admin/players/:player_id/transfers")]: {
        post: {
          ...operation(
            "transfer",
            "Move money into or out of a player's wallet, exactly once",
            admin,
            jsonSchema(TransferRequest),
            ok(TransferResponse),
            {
              ...adminErrors,
              "402": error("INSUFFICIENT_FUNDS (with the balance): a transfer out above it"),
              "403": error("PLAYER_CLOSED: a transfer in to a closed player"),
              "404": error("PLAYER_NOT_FOUND"),
              "409": error(
                "DUPLICATE_TRANSACTION: the id is another transfer's or a ThrillGate transaction's",
              ),
              "503": error(
                "UNAVAILABLE: safe to retry; a transfer that was applied answers the same",
              ),
            },
          ),
          parameters: [playerId("path")],
        },
      },
      [openApiPath("/admin/players/:player_id/sessions")]: {
        post: {
          ...operation(
            "createSession",
            "Issue a player token",
            admin,
            jsonSchema(CreateSessionRequest),
            created(SessionResponse),
            {
              ...adminErrors,
              "404": error("PLAYER_NOT_FOUND"),
            },
          ),
          parameters: [playerId("path")],
        },
        delete: {
          ...operation(
            "revokeSessions",
            "Revoke every token of a player",
            admin,
            undefined,
            ok(RevokeSessionsResponse),
            {
              ...adminErrors,
              "404": error("PLAYER_NOT_FOUND"),
            },
          ),
          parameters: [playerId("path")],
        },
      },
      [openApiPath("/admin/players/:player_id/ledger")]: {
        get: {
          ...operation(
            "playerLedger",
            "A player's ledger entries, newest first",
            admin,
            undefined,
            ok(LedgerResponse),
            {
              ...adminErrors,
              "404": error("PLAYER_NOT_FOUND"),
            },
          ),
          parameters: [
            playerId("path"),
            parameter(
              "limit",
              "query",
              { type: "integer", minimum: 1, maximum: 500, default: 50 },
              false,
            ),
            parameter(
              "before",
              "query",
              { type: "integer", minimum: 1, description: "next_before of the previous page" },
              false,
            ),
          ],
        },
      },
      "/admin/reconcile": {
        get: {
          ...operation(
            "reconcile",
            "Invariant 5 for every player: balance = opening + archived totals + live entries",
            admin,
            undefined,
            ok(ReconcileResponse),
            adminErrors,
          ),
          parameters: [
            parameter(
              "archive",
              "query",
              {
                type: "string",
                enum: ["true", "false"],
                default: "false",
                description: "also re-read every archived part in R2",
              },
              false,
            ),
          ],
        },
      },
      "/admin/archive": {
        get: operation(
          "archiveStatus",
          "The ledger archive: days archived to R2, rows, bytes, the last run and the last error",
          admin,
          undefined,
          ok(ArchiveStatusResponse),
          adminErrors,
        ),
      },
      "/admin/archive/run": {
        post: operation(
          "runArchive",
          "Run the archive job now (what the Cron Trigger runs); send {}",
          admin,
          jsonSchema(ArchiveRunRequest),
          ok(ArchiveRunResponse),
          adminErrors,
        ),
      },
      "/admin/reconcile/run": {
        post: operation(
          "runReconcile",
          "Reconcile as the nightly job does, and record the run (trigger manual)",
          admin,
          undefined,
          created(ReconcileRunResponse),
          adminErrors,
        ),
      },
      "/admin/reconcile/last": {
        get: operation(
          "lastReconcile",
          "The last recorded reconciliation run, nightly or manual",
          admin,
          undefined,
          ok(ReconcileRunResponse),
          {
            ...adminErrors,
            "404": error("NOT_FOUND: no run is recorded yet"),
          },
        ),
      },
      "/admin/faults": {
        post: operation(
          "injectFaults",
          "Arm faults in one player's object (FAULT_INJECTION=enabled only)",
          admin,
          jsonSchema(FaultRequest),
          ok(FaultResponse),
          {
            ...adminErrors,
            "404": error("NOT_FOUND: fault injection is not enabled"),
          },
        ),
      },
      [openApiPath("/admin/transactions/:transaction_id")]: {
        get: {
          ...operation(
            "lookupTransaction",
            "What the wallet knows of a transaction id",
            admin,
            undefined,
            ok(TransactionLookupResponse),
            {
              ...adminErrors,
              "404": error("NOT_FOUND: never seen"),
            },
          ),
          parameters: [
            parameter("transaction_id", "path", { type: "string", maxLength: 255 }, true),
          ],
        },
      },
      "/admin/reports/daily": {
        get: {
          ...operation(
            "dailyReport",
            "Totals per UTC day, operator, brand and currency (at most 92 days)",
            admin,
            undefined,
            ok(DailyReportResponse),
            {
              ...adminErrors,
              "400": error(
                "INVALID_REQUEST: a date that is not YYYY-MM-DD or not a real day, to before from, more than 92 days",
              ),
            },
          ),
          parameters: queryParameters(DailyReportQuery),
        },
      },
      "/admin/ledger/export": {
        get: {
          operationId: "ledgerExport",
          summary: "Every ledger entry of [from, to), oldest first, streamed as NDJSON or CSV",
          security: admin,
          parameters: queryParameters(LedgerExportQuery),
          responses: {
            "200": {
              description:
                "NDJSON (format=ndjson, the default): one entry a line, each the object described here. CSV (format=csv): a header row naming the same fields in the same order, then one row an entry (RFC 4180: CRLF, quoted where needed); amounts as exact decimal text, metadata empty if null.",
              content: {
                "application/x-ndjson": { schema: jsonSchema(LedgerExportEntry) },
                "text/csv": {
                  schema: {
                    type: "string",
                    description: `header: ${Object.keys(LedgerExportEntry.shape).join(",")}`,
                  },
                },
              },
            },
            ...adminErrors,
            "400": error(
              "INVALID_REQUEST: from or to not ISO 8601 with Z or an offset (or a date), finer than milliseconds, to before from, or an unknown format",
            ),
          },
        },
      },
    },
  };
}
