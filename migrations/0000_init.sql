CREATE TABLE `cancellations` (
	`transaction_id` text PRIMARY KEY NOT NULL,
	`player_id` text,
	`outcome` text NOT NULL,
	`batch_id` text,
	`balance_after_minor` integer,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cancellations_player_idx` ON `cancellations` (`player_id`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`player_id` text NOT NULL,
	`transaction_id` text NOT NULL,
	`effect` text NOT NULL,
	`type` text NOT NULL,
	`delta_minor` integer NOT NULL,
	`balance_after_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`metadata` text,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_entries_transaction_effect_uq` ON `ledger_entries` (`transaction_id`,`effect`);--> statement-breakpoint
CREATE INDEX `ledger_entries_player_idx` ON `ledger_entries` (`player_id`,`id`);--> statement-breakpoint
CREATE TABLE `players` (
	`id` text PRIMARY KEY NOT NULL,
	`operator_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`currency` text NOT NULL,
	`balance_minor` integer NOT NULL,
	`opening_balance_minor` integer NOT NULL,
	`nickname` text,
	`gender` text,
	`country` text,
	`date_of_birth` text,
	`jurisdiction` text,
	`segments` text DEFAULT '[]' NOT NULL,
	`created_at_ms` integer NOT NULL,
	CONSTRAINT "players_balance_not_negative" CHECK("players"."balance_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`token` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`operator_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`currency` text,
	`source_id` text,
	`expires_at_ms` integer,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`player_id`) REFERENCES `players`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sessions_player_idx` ON `sessions` (`player_id`);--> statement-breakpoint
CREATE TABLE `transactions` (
	`transaction_id` text PRIMARY KEY NOT NULL,
	`player_id` text,
	`status` text NOT NULL,
	`type` text,
	`amount_minor` integer,
	`currency` text,
	`batch_id` text,
	`balance_after_minor` integer,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `transactions_player_idx` ON `transactions` (`player_id`);--> statement-breakpoint
CREATE INDEX `transactions_batch_idx` ON `transactions` (`batch_id`);