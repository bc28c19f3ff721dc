import * as z from "zod";
import { MS_PER_DAY } from "../ledger/report";
import { ENTRY_TYPES, PLAYER_STATUSES, TRANSACTION_TYPES } from "../ledger/schema";
import { isKnownCurrency } from "../money";
import { TRANSFER_DIRECTIONS } from "../wallet/decide";
import { ApiError, ERROR_STATUS } from "./errors";

// Every request body and query the API accepts. Choices the public ThrillGate documentation
// leaves open live here (see the spec's [ours] marks), so a correction is a one-file change.

/** Ids are the operator's own; the bound keeps one row and one log line small. */
export const MAX_ID_LENGTH = 255;
const MAX_TOKEN_LENGTH = 512;
const MAX_PROFILE_FIELD_LENGTH = 255;
const MAX_SEGMENTS = 100;
/** A transfer's reason is for people (support, finance), kept with its ledger entry. */
export const MAX_REASON_LENGTH = 1000;

const id = z.string().min(1).max(MAX_ID_LENGTH);
const currency = z.string().refine(isKnownCurrency, "unknown currency code");
/** Money after json.ts: a JSON number's source text, or a string as sent. */
export const decimal = z.string().max(64);
const profileField = z.string().max(MAX_PROFILE_FIELD_LENGTH).nullish();

// The signature covers the body, not the route: a body ThrillGate signed for one route, sent to
// another with its signature, must not act there. The rule: each route refuses, at the top level
// of its body, the fields that make the shape of another route's body. A transaction is a
// transaction_type of Debit, Credit or None with an amount: every other route refuses that shape
// (a transaction itself refuses nothing it does not interpret, so a newer ThrillGate cannot break a
// Credit). A cancel is a transaction_id at the top level: the batch envelopes refuse it. A batch is
// a `transactions` list (or a bare array): the single routes refuse it. Authenticate is a
// player_token: the cancel routes and the batch envelopes refuse it, and authenticate refuses
// every field that names a transaction or a batch. A field that fits no route stays welcome.
function withoutFields(fields: readonly string[], route: string) {
  return (body: Record<string, unknown>, context: z.core.$RefinementCtx) => {
    for (const field of fields) {
      if (Object.hasOwn(body, field))
        context.addIssue({
          code: "custom",
          path: [field],
          message: `not a field of ${route} (it belongs to another route's body)`,
        });
    }
  };
}
function notATransactionBody(body: Record<string, unknown>): boolean {
  const type = body.transaction_type;
  return !("amount" in body && (type === "Debit" || type === "Credit" || type === "None"));
}
const NOT_A_TRANSACTION = {
  message: "a cancel is not a transaction: it carries no transaction_type and amount",
};
const SINGLE_REQUEST_FIELDS = [
  "player_id",
  "transaction_id",
  "transaction_type",
  "amount",
  "provider_id",
  "player_token",
] as const;

export const AuthenticateRequest = z
  .looseObject({
    operator_id: id,
    brand_id: id,
    player_token: z.string().min(1).max(MAX_TOKEN_LENGTH),
    source_id: z.string().max(MAX_ID_LENGTH).nullish(),
    // An older published request names the source `game_code`; either, or neither, is accepted.
    game_code: z.string().max(MAX_ID_LENGTH).nullish(),
    currency: z.string().min(1).max(16),
  })
  .superRefine(
    withoutFields(
      ["player_id", "transaction_id", "transaction_type", "amount", "transactions", "batch_id"],
      "authenticate",
    ),
  );

export const BalanceQuery = z.object({ player_id: id });
export const PlayerPath = z.object({ player_id: id });

// Fields ThrillGate adds (round, game, jackpot ids, timestamps…) are kept as ledger metadata,
// never refused, so a newer ThrillGate cannot break the wallet: hence looseObject.
export const TransactionRequest = z.looseObject({
  player_id: id,
  transaction_id: id,
  transaction_type: z.enum(TRANSACTION_TYPES),
  provider_id: id,
  amount: decimal,
  currency: z.string().min(1).max(16).nullish(),
});
export type TransactionRequest = z.infer<typeof TransactionRequest>;

// A cancel with fields of its own (even a type and amount that are not a transaction's) is a cancel.
export const CancelRequest = z
  .looseObject({
    transaction_id: id,
    player_id: id.nullish(),
  })
  .refine(notATransactionBody, NOT_A_TRANSACTION)
  .superRefine(withoutFields(["transactions", "player_token"], "a cancel"));

// A batch body is {batch_id?, transactions: [...]}, or a bare array of the items (see batch.ts).
export const TransactionBatchRequest = z
  .looseObject({
    batch_id: id.nullish(),
    transactions: z.array(TransactionRequest).min(1, "a batch needs at least one transaction"),
  })
  .superRefine(withoutFields(SINGLE_REQUEST_FIELDS, "a batch envelope"));

export const CancelBatchItem = z
  .looseObject({ transaction_id: id, player_id: id.nullish() })
  .refine(notATransactionBody, NOT_A_TRANSACTION);
export const CancelBatchRequest = z
  .looseObject({ batch_id: id.nullish(), transactions: z.array(CancelBatchItem).optional() })
  .refine(
    (body) => (body.transactions?.length ?? 0) > 0 || body.batch_id,
    "name transactions, a batch_id, or both",
  )
  .superRefine(withoutFields(SINGLE_REQUEST_FIELDS, "a batch cancel envelope"));

export const FaultRequest = z.strictObject({
  player_id: id,
  fail_next_writes: z.number().int().min(0).max(10).optional(),
  lose_next_answers: z.number().int().min(0).max(10).optional(),
  restart: z.boolean().optional(),
});

export const LedgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().min(1).optional(),
});

/** The longest daily report, in days: a quarter, so that one report is one bounded D1 query. */
export const MAX_REPORT_DAYS = 92;

/** A UTC day, YYYY-MM-DD (a real date: 2026-02-30 is refused), read as days since 1970-01-01. */
const utcDay = z.iso
  .date()
  // A date-only form is UTC to Date.parse (ECMA-262), so this is its midnight UTC.
  .transform((date) => Date.parse(date) / MS_PER_DAY)
  .meta({ description: "a UTC day, YYYY-MM-DD" });

// The query of a GET is picked field by field (as LedgerQuery's), so other names are ignored.
export const DailyReportQuery = z
  .object({ from: utcDay, to: utcDay, brand_id: id.optional() })
  .refine((query) => query.from <= query.to, { path: ["to"], message: "to is before from" })
  .refine((query) => query.to - query.from < MAX_REPORT_DAYS, {
    path: ["to"],
    message: `a report covers at most ${MAX_REPORT_DAYS} days`,
  });

// The ledger keeps milliseconds: a finer instant would have to be rounded, and an edge that moves
// could take in or leave out an entry, so it is refused.
const MAX_SECOND_DECIMALS = 3;
/** An instant: an ISO 8601 date-time with Z or an offset, or a date (its midnight UTC), as ms. */
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .refine(
    (text) => (/\.([0-9]+)/.exec(text)?.[1]?.length ?? 0) <= MAX_SECOND_DECIMALS,
    `at most ${MAX_SECOND_DECIMALS} decimals of a second (the ledger keeps milliseconds)`,
  )
  // Date.parse reads a date-only form as midnight UTC (ECMA-262), the others by their offset.
  .transform((text) => Date.parse(text))
  .meta({
    description:
      "ISO 8601 date-time with Z or an offset (2026-11-01T00:00:00Z), or a date for its midnight UTC",
  });

export const EXPORT_FORMATS = ["ndjson", "csv"] as const;
export const LedgerExportQuery = z
  .object({ from: instant, to: instant, format: z.enum(EXPORT_FORMATS).default("ndjson") })
  .refine((query) => query.from <= query.to, { path: ["to"], message: "to is before from" });

export const CreatePlayerRequest = z.strictObject({
  player_id: id,
  operator_id: id,
  brand_id: id,
  currency,
  balance: decimal,
  nickname: profileField,
  gender: profileField,
  country: profileField,
  date_of_birth: profileField,
  jurisdiction: profileField,
  segments: z.array(z.string().max(MAX_PROFILE_FIELD_LENGTH)).max(MAX_SEGMENTS).optional(),
});
export type CreatePlayerRequest = z.infer<typeof CreatePlayerRequest>;

export const CreateSessionRequest = z.strictObject({
  ttl_seconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .optional(),
});

export const PlayerStatusRequest = z.strictObject({ status: z.enum(PLAYER_STATUSES) });

// The operator's own fields (a payment reference, a desk id…) are kept with the ledger entry, like
// ThrillGate's: hence looseObject. But a transfer is in the player's currency, to the player of
// its path: a `currency` or `player_id` in the body would read as a choice that is not made, so
// the body is refused rather than moving money the operator may not have meant.
export const TransferRequest = z
  .looseObject({
    transfer_id: id,
    direction: z.enum(TRANSFER_DIRECTIONS),
    amount: decimal,
    reason: z.string().max(MAX_REASON_LENGTH).nullish(),
  })
  .superRefine(
    withoutFields(
      ["currency", "player_id"],
      "a transfer (it is in the player's currency, to the player of its path)",
    ),
  );
export type TransferRequest = z.infer<typeof TransferRequest>;

// Responses: the shapes handlers answer, for the OpenAPI document (handlers build them directly).

/** Written as an exact decimal with the currency's decimals, e.g. 1000.00 (EUR) or 1500 (JPY). */
const money = z
  .number()
  .meta({ description: "exact decimal with the currency's decimals, e.g. 1000.00" });
const moneyText = z
  .string()
  .meta({ description: 'exact decimal text with the currency\'s decimals, e.g. "1000.00"' });
const ErrorDetail = z.object({ code: z.literal(Object.keys(ERROR_STATUS)), message: z.string() });

export const ErrorResponse = ErrorDetail.extend({ balance: money.optional() });

export const AuthenticateResponse = z.object({
  id: z.string(),
  token: z.string(),
  currency: z.string(),
  balance: money,
  operator_id: z.string(),
  brand_id: z.string(),
  nickname: z.string().nullable(),
  gender: z.string().nullable(),
  country: z.string().nullable(),
  date_of_birth: z.string().nullable(),
  jurisdiction: z.string().nullable(),
  segments: z.array(z.string()),
});

export const BalanceResponse = z.object({ balance: money });
export const TransactionResponse = z.object({
  transaction_id: z.string(),
  balance: money,
  currency: z.string(),
});
export const CancelResponse = z.object({ balance: moneyText });

const itemStatus = z.enum(["OK", "ERROR"]);
export const TransactionBatchResponse = z.object({
  batch_id: z.string().optional(),
  results: z.array(
    z.object({
      transaction_id: z.string(),
      player_id: z.string(),
      status: itemStatus,
      balance: money.optional(),
      error: ErrorDetail.optional(),
    }),
  ),
});
export const CancelBatchResponse = z.object({
  batch_id: z.string().optional(),
  results: z
    .array(
      z.object({
        transaction_id: z.string(),
        status: itemStatus,
        balance: moneyText.optional(),
        error: ErrorDetail.optional(),
      }),
    )
    .meta({
      description:
        "One per listed item, in request order; with batch_id alone, one per item of the batch, the last applied first. A 200 with batch_id alone means the whole batch is undone.",
    }),
});

export const PlayerResponse = CreatePlayerRequest.omit({ balance: true }).extend({
  balance: money,
  status: z.enum(PLAYER_STATUSES).meta({
    description:
      "active; suspended: no authenticate, no debits; closed: as suspended, and no transfers in",
  }),
});
export const TransferResponse = z.object({
  transfer_id: z.string(),
  direction: z.enum(TRANSFER_DIRECTIONS),
  balance: money.meta({ description: "the balance the transfer left" }),
  currency: z.string(),
});
export const RevokeSessionsResponse = z.object({
  player_id: z.string(),
  revoked: z.number().int().min(0).meta({ description: "how many live tokens were revoked" }),
});
export const SessionResponse = z.object({ player_token: z.string(), expires_at: z.iso.datetime() });
export const LedgerResponse = z.object({
  player_id: z.string(),
  entries: z.array(
    z.object({
      id: z.number().int(),
      transaction_id: z.string(),
      effect: z.enum(["apply", "reverse"]),
      type: z.enum(ENTRY_TYPES),
      amount: money,
      balance_after: money,
      currency: z.string(),
      metadata: z.record(z.string(), z.unknown()).nullable(),
      created_at: z.iso.datetime(),
    }),
  ),
  next_before: z.number().int().nullable(),
  archived: z.object({ entries: z.number().int(), through_day: z.iso.date() }).nullable().meta({
    description:
      "where the live ledger starts: this many older entries, through this UTC day, are in the archive (docs/archive.md; GET /admin/ledger/export reads them); null if none",
  }),
});
export const ReconcileQuery = z.object({
  archive: z.stringbool().default(false),
});
export const ReconcileResponse = z.object({
  ok: z.boolean(),
  players_checked: z.number().int(),
  transactions_checked: z.number().int(),
  transfers_checked: z.number().int().meta({ description: "of the transactions checked" }),
  balance_mismatches: z.array(
    z.object({
      player_id: z.string(),
      balance_minor: z.number().int(),
      expected_minor: z.number().int(),
    }),
  ),
  transaction_problems: z.array(
    z.object({
      transaction_id: z.string(),
      status: z.string().nullable(),
      applying_entries: z.number().int(),
      reversing_entries: z.number().int(),
    }),
  ),
  archive: z
    .object({
      days_checked: z.number().int(),
      parts_checked: z.number().int(),
      entries_checked: z.number().int(),
      problems: z.array(z.string()),
    })
    .nullable()
    .meta({
      description:
        "with ?archive=true: every archived part re-read from R2, its digest and rows against its manifest, and the sums against the archived totals; null otherwise",
    }),
});
/** One recorded reconciliation run: the report it made, and when, how and how fast it ran. */
export const ReconcileRunResponse = ReconcileResponse.extend({
  id: z.number().int(),
  trigger: z
    .enum(["cron", "manual"])
    .meta({ description: "cron: the nightly Cron Trigger; manual: POST /admin/reconcile/run" }),
  started_at: z.iso.datetime(),
  duration_ms: z.number().int().min(0),
  disagreements: z.number().int().min(0).meta({
    description: "balance_mismatches plus transaction_problems; 0 when the ledger adds up",
  }),
});
export const FaultResponse = z.object({ armed: FaultRequest });

/** POST /admin/archive/run. `now` and `crash_at` exist for tests and local runs only (FAULT_INJECTION). */
export const ArchiveRunRequest = z.strictObject({
  now: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: "the run's now (FAULT_INJECTION=enabled only); default: the clock" }),
  crash_at: z
    .enum(["put", "verify", "copy", "delete"])
    .optional()
    .meta({ description: "stop the run at this step (FAULT_INJECTION=enabled only)" }),
});
const ArchiveRunBody = z.object({
  id: z.number().int(),
  trigger: z.enum(["cron", "manual"]),
  now: z.iso.datetime(),
  started_at: z.iso.datetime(),
  duration_ms: z.number().int(),
  days_archived: z.number().int(),
  rows_deleted: z.number().int(),
  error: z.string().nullable(),
});
export const ArchiveRunResponse = z.object({
  ran: z.boolean().meta({ description: "false if another run held the job's lease" }),
  days_archived: z.number().int(),
  rows_deleted: z.number().int(),
  error: z.string().nullable(),
});
export const ArchiveStatusResponse = z.object({
  days: z.array(
    z.object({
      date: z.iso.date(),
      status: z.enum(["written", "ids_copied", "archived"]),
      parts: z.number().int(),
      entry_rows: z.number().int(),
      id_rows: z.number().int(),
      cancellation_rows: z.number().int(),
      bytes: z.number().int(),
      manifest_sha256: z.string(),
    }),
  ),
  last_run: ArchiveRunBody.nullable(),
  last_error: ArchiveRunBody.nullable(),
});
export const HealthResponse = z.object({ status: z.literal("ok") });

const LedgerEntryResponse = z.object({
  id: z.number().int(),
  transaction_id: z.string(),
  effect: z.enum(["apply", "reverse"]),
  type: z.enum(ENTRY_TYPES),
  amount: money.meta({ description: "signed change of the balance" }),
  balance_after: money,
  currency: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.iso.datetime(),
});
export const TransactionLookupResponse = z.object({
  transaction_id: z.string(),
  status: z.enum(["applied", "cancelled", "refused", "tombstone"]),
  player_id: z
    .string()
    .nullable()
    .meta({ description: "null for a tombstone whose cancel named no player" }),
  type: z.enum(ENTRY_TYPES).nullable(),
  amount: money.nullable(),
  currency: z.string().nullable(),
  batch_id: z.string().nullable(),
  created_at: z.iso.datetime().meta({ description: "when the wallet first saw the id" }),
  refusal: z
    .object({ code: z.string(), message: z.string(), balance: money.nullable() })
    .nullable(),
  cancel: z
    .object({
      outcome: z.enum(["reversed", "tombstone"]),
      batch_id: z.string().nullable(),
      created_at: z.iso.datetime(),
    })
    .nullable(),
  entries: z.array(LedgerEntryResponse).meta({
    description: "oldest first: the entry that applied the id, then the one that reversed it",
  }),
  archived_day: z.iso.date().nullable().meta({
    description:
      "the UTC day whose archive in R2 holds the id's row (docs/archive.md); null while D1 holds it",
  }),
});

const tally = z.object({
  count: z.number().int().min(0),
  amount: money
    .min(0)
    .meta({ description: "the sum, never negative, exact with the currency's decimals" }),
});
export const DailyReportResponse = z.object({
  days: z
    .array(
      z.object({
        date: z.iso.date(),
        operator_id: z.string(),
        brand_id: z.string(),
        currency: z.string(),
        debits: tally,
        credits: tally,
        cancelled_debits: tally,
        cancelled_credits: tally,
        transfers_in: tally,
        transfers_out: tally,
        ggr: money.meta({
          description:
            "debits − credits − cancelled debits + cancelled credits; negative when players won",
        }),
      }),
    )
    .meta({
      description:
        "one row per UTC day, operator, brand and currency that has ledger entries, in that order",
    }),
});

/** One entry of the ledger export: a line of NDJSON, or a CSV row whose header names these fields in this order. */
export const LedgerExportEntry = z.object({
  entry_id: z.number().int(),
  created_at: z.iso.datetime(),
  player_id: z.string(),
  operator_id: z.string(),
  brand_id: z.string(),
  transaction_id: z.string().meta({ description: "the transaction or transfer id" }),
  effect: z.enum(["apply", "reverse"]),
  type: z.enum(ENTRY_TYPES),
  amount: money.meta({ description: "signed change of the balance" }),
  balance_after: money,
  currency: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable().meta({
    description:
      "the request fields the wallet keeps, as sent (in CSV: their JSON text); null (empty in CSV) if none",
  }),
});

/** Validates `value`, or throws the 400 that names the first field in error. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new ApiError("INVALID_REQUEST", `${where}${issue?.message ?? "invalid request"}`);
}
