CREATE TABLE `archive_days` (
	`day` integer PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`parts` integer NOT NULL,
	`entry_rows` integer NOT NULL,
	`id_rows` integer NOT NULL,
	`cancellation_rows` integer NOT NULL,
	`bytes` integer NOT NULL,
	`manifest_sha256` text NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `archive_lease` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`expires_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `archive_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`trigger` text NOT NULL,
	`now_ms` integer NOT NULL,
	`started_at_ms` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`days_archived` integer NOT NULL,
	`rows_deleted` integer NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `archive_runs_started_idx` ON `archive_runs` (`started_at_ms`);--> statement-breakpoint
CREATE TABLE `archived_report_rows` (
	`day` integer NOT NULL,
	`operator_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`currency` text NOT NULL,
	`debits_count` integer NOT NULL,
	`debits_minor` integer NOT NULL,
	`credits_count` integer NOT NULL,
	`credits_minor` integer NOT NULL,
	`cancelled_debits_count` integer NOT NULL,
	`cancelled_debits_minor` integer NOT NULL,
	`cancelled_credits_count` integer NOT NULL,
	`cancelled_credits_minor` integer NOT NULL,
	`transfers_in_count` integer NOT NULL,
	`transfers_in_minor` integer NOT NULL,
	`transfers_out_count` integer NOT NULL,
	`transfers_out_minor` integer NOT NULL,
	`ggr_minor` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `archived_report_rows_uq` ON `archived_report_rows` (`day`,`operator_id`,`brand_id`,`currency`);--> statement-breakpoint
CREATE TABLE `archived_totals` (
	`player_id` text PRIMARY KEY NOT NULL,
	`entries` integer NOT NULL,
	`delta_minor` integer NOT NULL,
	`through_day` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cancellations_created_idx` ON `cancellations` (`created_at_ms`,`transaction_id`);--> statement-breakpoint
CREATE INDEX `transactions_created_idx` ON `transactions` (`created_at_ms`,`transaction_id`);