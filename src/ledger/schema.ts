import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// D1 is the system of record. Every amount is an integer count of the currency's minor units.

export const PLAYER_STATUSES = ["active", "suspended", "closed"] as const;
export type PlayerStatus = (typeof PLAYER_STATUSES)[number];

export const players = sqliteTable(
  "players",
  {
    id: text("id").primaryKey(),
    operatorId: text("operator_id").notNull(),
    brandId: text("brand_id").notNull(),
    currency: text("currency").notNull(),
    balanceMinor: integer("balance_minor").notNull(),
    // Reconciliation proves balance = opening balance + sum of ledger deltas.
    openingBalanceMinor: integer("opening_balance_minor").notNull(),
    nickname: text("nickname"),
    gender: text("gender"),
    country: text("country"),
    dateOfBirth: text("date_of_birth"),
    jurisdiction: text("jurisdiction"),
    segments: text("segments", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    // Set by the operator (admin API): a suspended player cannot be debited or authenticated, a
    // closed one cannot receive transfers either. Wins and reversals are always paid.
    status: text("status", { enum: PLAYER_STATUSES }).notNull().default("active"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    // Last line of defence for "no overdraft": a write that would go below zero fails whole.
    check("players_balance_not_negative", sql`${t.balanceMinor} >= 0`),
  ],
);

// Player tokens: launch tokens issued by the operator (admin API) and the session tokens
// that /wallet/authenticate hands back. A null expiry is for seeded demo tokens only.
export const sessions = sqliteTable(
  "sessions",
  {
    token: text("token").primaryKey(),
    // No foreign key: sessions live in the index database, the player in its shard (migration 0009).
    playerId: text("player_id").notNull(),
    operatorId: text("operator_id").notNull(),
    brandId: text("brand_id").notNull(),
    currency: text("currency"),
    sourceId: text("source_id"),
    expiresAtMs: integer("expires_at_ms"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [index("sessions_player_idx").on(t.playerId)],
);

// ThrillGate's transaction types, and the operator's transfers (admin API). Both share one id
// space: the transactions table's primary key, so a transfer id can never be taken for a
// ThrillGate transaction id or the other way round.
export const TRANSACTION_TYPES = ["Debit", "Credit", "None"] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
export const TRANSFER_TYPES = ["TransferIn", "TransferOut"] as const;
export type TransferType = (typeof TRANSFER_TYPES)[number];
export const ENTRY_TYPES = [...TRANSACTION_TYPES, ...TRANSFER_TYPES] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export function isTransferType(type: EntryType | null): type is TransferType {
  return type !== null && (TRANSFER_TYPES as readonly string[]).includes(type);
}

// One row per transaction id, across all players: the primary key is the final judge of
// "seen before". A cancel for an id never seen leaves a tombstone row here, so a late
// original loses the insert race and is refused. A refused transaction leaves a "refused" row,
// so that a copy of it arriving later (a retry, a batch resent) gets the same refusal and is
// never applied after ThrillGate was told it was not.
export const transactions = sqliteTable(
  "transactions",
  {
    transactionId: text("transaction_id").primaryKey(),
    // Null only for a tombstone whose cancel named no player.
    playerId: text("player_id"),
    status: text("status", { enum: ["applied", "cancelled", "tombstone", "refused"] }).notNull(),
    // Type, amount and currency are null for a tombstone: no content was ever seen.
    type: text("type", { enum: ENTRY_TYPES }),
    amountMinor: integer("amount_minor"),
    currency: text("currency"),
    batchId: text("batch_id"),
    // What the first call answered, so a replay answers the same.
    balanceAfterMinor: integer("balance_after_minor"),
    // For a refused id: the error it was answered. Its balance_after_minor stays NULL, so that code
    // from before refusals were recorded (a rollback) answers a copy DUPLICATE_TRANSACTION, not OK.
    refusalCode: text("refusal_code"),
    refusalMessage: text("refusal_message"),
    refusalBalanceMinor: integer("refusal_balance_minor"),
    // For a tombstone: the brand whose own key signed the cancel; null for the default key (and
    // for tombstones from before brands had keys). A brand's tombstone blocks the late original of
    // that brand's players only: another brand's original replaces it (wallet/player-wallet.ts).
    // Once a second brand cancelled the same id, every_brand is 1 and it blocks every original of
    // it. The rule: tombstoneBlocks (writes.ts).
    brandId: text("brand_id"),
    everyBrand: integer("every_brand").notNull().default(0),
    // For the default key's tombstone: the brands listed in WALLET_HMAC_SECRETS when it was written
    // (a JSON array of brand ids), which the default key could not reach. It blocks every other
    // brand, a brand listed since too (the cancel may have been of its players). Null with a null
    // brand_id: a tombstone from before this column, which blocks every brand. Plain text, not
    // drizzle's json mode: a bound null must stay SQL NULL, and the SQL reads it with json_each.
    listedBrands: text("listed_brands"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("transactions_player_idx").on(t.playerId),
    index("transactions_batch_idx").on(t.batchId),
    // The archive job reads and deletes a closed day's id rows by time (docs/archive.md).
    index("transactions_created_idx").on(t.createdAtMs, t.transactionId),
  ],
);

// Append-only. Each transaction id has at most one entry that applies it and at most one
// that reverses it; the unique index enforces that even if the code above it were wrong.
export const ledgerEntries = sqliteTable(
  "ledger_entries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    playerId: text("player_id").notNull(),
    transactionId: text("transaction_id").notNull(),
    effect: text("effect", { enum: ["apply", "reverse"] }).notNull(),
    type: text("type", { enum: ENTRY_TYPES }).notNull(),
    deltaMinor: integer("delta_minor").notNull(),
    balanceAfterMinor: integer("balance_after_minor").notNull(),
    currency: text("currency").notNull(),
    // Request fields the wallet does not interpret (round, game, jackpot ids…): the JSON text of an
    // object, kept as sent (keys, and numbers as written: see api/json.ts).
    metadata: text("metadata"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("ledger_entries_transaction_effect_uq").on(t.transactionId, t.effect),
    index("ledger_entries_player_idx").on(t.playerId, t.id),
    // The daily report and the ledger export read entries by time.
    index("ledger_entries_created_idx").on(t.createdAtMs, t.id),
  ],
);

// One row per cancelled id: a cancel is applied at most once.
export const cancellations = sqliteTable(
  "cancellations",
  {
    transactionId: text("transaction_id").primaryKey(),
    playerId: text("player_id"),
    outcome: text("outcome", { enum: ["reversed", "tombstone"] }).notNull(),
    batchId: text("batch_id"),
    balanceAfterMinor: integer("balance_after_minor"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("cancellations_player_idx").on(t.playerId),
    // The archive job reads and deletes a closed day's cancellations by time (docs/archive.md).
    index("cancellations_created_idx").on(t.createdAtMs, t.transactionId),
  ],
);

// One row per reconciliation run (the nightly Cron Trigger, or an operator's on-demand run), so
// that the last result can be shown and the history of disagreements read back.
export const reconcileRuns = sqliteTable(
  "reconcile_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    // "cron" for the scheduled run, "manual" for one an operator started.
    trigger: text("trigger", { enum: ["cron", "manual"] }).notNull(),
    startedAtMs: integer("started_at_ms").notNull(),
    durationMs: integer("duration_ms").notNull(),
    playersChecked: integer("players_checked").notNull(),
    transactionsChecked: integer("transactions_checked").notNull(),
    // Balance mismatches plus transaction problems; 0 when the ledger adds up.
    disagreements: integer("disagreements").notNull(),
    // The report's lists as JSON (bounded by the report itself), for the admin API and console.
    details: text("details"),
  },
  (t) => [index("reconcile_runs_started_idx").on(t.startedAtMs)],
);

// The archive (docs/archive.md): closed UTC days moved to R2 (LEDGER_ARCHIVE), then deleted from D1.

/**
 * Where a day is in the archive job, each step done before the next starts: "written" (parts and
 * manifest in R2, read back and verified against D1), "ids_copied" (every id of the day is in its
 * player's object), "archived" (the day's rows deleted from D1, archived totals updated). A day
 * without a row has not been started; a crash leaves the status of the last finished step.
 */
export const ARCHIVE_DAY_STATUSES = ["written", "ids_copied", "archived"] as const;
export type ArchiveDayStatus = (typeof ARCHIVE_DAY_STATUSES)[number];

export const archiveDays = sqliteTable("archive_days", {
  /** Days since 1970-01-01 UTC. */
  day: integer("day").primaryKey(),
  status: text("status", { enum: ARCHIVE_DAY_STATUSES }).notNull(),
  /** Objects in R2 for the day, manifest excluded. */
  parts: integer("parts").notNull(),
  /** Ledger entries, id rows and cancellations archived. */
  entryRows: integer("entry_rows").notNull(),
  idRows: integer("id_rows").notNull(),
  cancellationRows: integer("cancellation_rows").notNull(),
  /** Bytes stored in R2 for the day: every part (gzip) and the manifest. */
  bytes: integer("bytes").notNull(),
  /** SHA-256 (hex) of the manifest object as stored. */
  manifestSha256: text("manifest_sha256").notNull(),
  updatedAtMs: integer("updated_at_ms").notNull(),
});

/** One row per archive run (the Cron Trigger, or an operator's on-demand run). */
export const archiveRuns = sqliteTable(
  "archive_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    trigger: text("trigger", { enum: ["cron", "manual"] }).notNull(),
    /** The run's "now": the scheduled event's time, or the request's clock for a manual run. */
    nowMs: integer("now_ms").notNull(),
    startedAtMs: integer("started_at_ms").notNull(),
    durationMs: integer("duration_ms").notNull(),
    /** Days that reached "archived" in this run, and the rows of D1 it deleted. */
    daysArchived: integer("days_archived").notNull(),
    rowsDeleted: integer("rows_deleted").notNull(),
    /** Null for a run that finished or stopped at its time budget; else why it stopped. */
    error: text("error"),
  },
  (t) => [index("archive_runs_started_idx").on(t.startedAtMs)],
);

/**
 * The archive job's lease: one row per job name. A run takes it with a conditional write (free,
 * or expired) and gives it back at its end; a second run meanwhile finds it held and does nothing.
 */
export const archiveLease = sqliteTable("archive_lease", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  expiresAtMs: integer("expires_at_ms").notNull(),
});

/**
 * Per player, what the archive holds of its ledger: entries, the sum of their deltas, and the last
 * day archived. Updated in the same D1 batch as each delete, so that balance = opening balance +
 * archived deltas + live entries holds before and after every batch (invariant 5).
 */
export const archivedTotals = sqliteTable("archived_totals", {
  playerId: text("player_id").primaryKey(),
  entries: integer("entries").notNull(),
  deltaMinor: integer("delta_minor").notNull(),
  throughDay: integer("through_day").notNull(),
});

/**
 * The owner of every archived id, for TRANSACTION_ID_RETENTION_DAYS: moved here from
 * `transactions` in the same D1 batch as the id row's delete, so that D1 always knows every id's
 * owner. A trigger (migration 0006) refuses a `transactions` insert of an id held here, as the
 * primary key refused it before archival: the id can be neither applied for another player nor
 * tombstoned by a cancel without player_id; such a cancel is sent to the owner, whose object holds
 * the rest of what was known of the id (docs/archive.md).
 */
export const archivedIdOwners = sqliteTable(
  "archived_id_owners",
  {
    transactionId: text("transaction_id").primaryKey(),
    playerId: text("player_id").notNull(),
    /** The UTC day of the id row archived (days since 1970-01-01): the id window counts from it. */
    day: integer("day").notNull(),
    /**
     * For an item of a batch (migration 0008): its batch_id, so that a cancel by batch_id alone
     * finds the archived items of the batch, and the id of the ledger entry that applied it (null
     * if none did), so that it undoes them in the order it did before archival (the last applied
     * first: transactionsOfBatch). Both null for an id of no batch, which then costs no bytes more.
     */
    batchId: text("batch_id"),
    appliedEntryId: integer("applied_entry_id"),
  },
  (t) => [
    index("archived_id_owners_day_idx").on(t.day),
    // Partial: most archived ids belong to no batch and stay out of it.
    index("archived_id_owners_batch_idx").on(t.batchId).where(sql`${t.batchId} IS NOT NULL`),
  ],
);

/**
 * The daily report's rows of archived days, as the report computed them before the entries left
 * D1 (the same rows are in the day's manifest). One row per day, operator, brand and currency.
 */
export const archivedReportRows = sqliteTable(
  "archived_report_rows",
  {
    day: integer("day").notNull(),
    operatorId: text("operator_id").notNull(),
    brandId: text("brand_id").notNull(),
    currency: text("currency").notNull(),
    debitsCount: integer("debits_count").notNull(),
    debitsMinor: integer("debits_minor").notNull(),
    creditsCount: integer("credits_count").notNull(),
    creditsMinor: integer("credits_minor").notNull(),
    cancelledDebitsCount: integer("cancelled_debits_count").notNull(),
    cancelledDebitsMinor: integer("cancelled_debits_minor").notNull(),
    cancelledCreditsCount: integer("cancelled_credits_count").notNull(),
    cancelledCreditsMinor: integer("cancelled_credits_minor").notNull(),
    transfersInCount: integer("transfers_in_count").notNull(),
    transfersInMinor: integer("transfers_in_minor").notNull(),
    transfersOutCount: integer("transfers_out_count").notNull(),
    transfersOutMinor: integer("transfers_out_minor").notNull(),
    ggrMinor: integer("ggr_minor").notNull(),
  },
  (t) => [uniqueIndex("archived_report_rows_uq").on(t.day, t.operatorId, t.brandId, t.currency)],
);

// The index database (docs/architecture.md, "Shards"): the binding DB. Migrations create every
// table in every database; the index's tables are used in DB only, the ledger's in the shards.

/**
 * Where each player lives: its shard's number (its place in LEDGER_SHARDS), chosen when the player
 * is created (homeShard) and changed only by a move. Also the player's operator and brand, so that
 * a batch's brand check and a cancel's scope need no shard read.
 */
export const playerDirectory = sqliteTable("player_directory", {
  playerId: text("player_id").primaryKey(),
  shard: integer("shard").notNull(),
  operatorId: text("operator_id").notNull(),
  brandId: text("brand_id").notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
});

/**
 * "claimed": a player's object took the id before writing its shard's batch; the shard may or may
 * not hold the id row yet (a crash between the two). "recorded": the shard holds the id row
 * (whatever its outcome); set by the index pass, or by a backfill. "tombstone": a cancel that named
 * no player saw the id first; no shard holds it.
 */
export const INDEX_STATES = ["claimed", "recorded", "tombstone"] as const;
export type IndexState = (typeof INDEX_STATES)[number];

/**
 * The transaction-id index: the one judge of "seen before" across every shard (invariant 1), and
 * where a cancel without player_id finds the owner (invariant 2). Kept for
 * TRANSACTION_ID_RETENTION_DAYS after created_at_ms, then pruned by the index pass.
 */
export const transactionIndex = sqliteTable(
  "transaction_index",
  {
    transactionId: text("transaction_id").primaryKey(),
    // Null (with shard) only for a tombstone.
    playerId: text("player_id"),
    shard: integer("shard"),
    state: text("state", { enum: INDEX_STATES }).notNull(),
    // A tombstone's brand rule, as on the transactions table (tombstoneBlocks, writes.ts).
    brandId: text("brand_id"),
    everyBrand: integer("every_brand").notNull().default(0),
    listedBrands: text("listed_brands"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("transaction_index_created_idx").on(t.createdAtMs),
    index("transaction_index_player_idx").on(t.playerId),
  ],
);

export type PlayerRow = typeof players.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
