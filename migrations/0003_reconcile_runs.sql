CREATE TABLE `reconcile_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`trigger` text NOT NULL,
	`started_at_ms` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`players_checked` integer NOT NULL,
	`transactions_checked` integer NOT NULL,
	`disagreements` integer NOT NULL,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `reconcile_runs_started_idx` ON `reconcile_runs` (`started_at_ms`);