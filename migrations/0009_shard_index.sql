CREATE TABLE `player_directory` (
	`player_id` text PRIMARY KEY NOT NULL,
	`shard` integer NOT NULL,
	`operator_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `transaction_index` (
	`transaction_id` text PRIMARY KEY NOT NULL,
	`player_id` text,
	`shard` integer,
	`state` text NOT NULL,
	`brand_id` text,
	`every_brand` integer DEFAULT 0 NOT NULL,
	`listed_brands` text,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `transaction_index_created_idx` ON `transaction_index` (`created_at_ms`);--> statement-breakpoint
CREATE INDEX `transaction_index_player_idx` ON `transaction_index` (`player_id`);--> statement-breakpoint
CREATE TABLE `__new_sessions` (
	`token` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`operator_id` text NOT NULL,
	`brand_id` text NOT NULL,
	`currency` text,
	`source_id` text,
	`expires_at_ms` integer,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_sessions`("token", "player_id", "operator_id", "brand_id", "currency", "source_id", "expires_at_ms", "created_at_ms") SELECT "token", "player_id", "operator_id", "brand_id", "currency", "source_id", "expires_at_ms", "created_at_ms" FROM `sessions`;--> statement-breakpoint
DROP TABLE `sessions`;--> statement-breakpoint
ALTER TABLE `__new_sessions` RENAME TO `sessions`;--> statement-breakpoint
CREATE INDEX `sessions_player_idx` ON `sessions` (`player_id`);--> statement-breakpoint
-- Backfill (docs/architecture.md, "Shards"): before this migration DB was the only database, so it
-- is shard 0 and holds every player and id. In any other database these tables are empty and the
-- statements insert nothing.
INSERT INTO `player_directory` (`player_id`, `shard`, `operator_id`, `brand_id`, `created_at_ms`)
SELECT `id`, 0, `operator_id`, `brand_id`, `created_at_ms` FROM `players`;--> statement-breakpoint
INSERT INTO `transaction_index` (`transaction_id`, `player_id`, `shard`, `state`, `brand_id`, `every_brand`, `listed_brands`, `created_at_ms`)
SELECT `transaction_id`, `player_id`, CASE WHEN `player_id` IS NULL THEN NULL ELSE 0 END,
  CASE WHEN `player_id` IS NULL THEN 'tombstone' ELSE 'recorded' END,
  `brand_id`, `every_brand`, `listed_brands`, `created_at_ms`
FROM `transactions`;--> statement-breakpoint
INSERT INTO `transaction_index` (`transaction_id`, `player_id`, `shard`, `state`, `created_at_ms`)
SELECT `transaction_id`, `player_id`, 0, 'recorded', `day` * 86400000 FROM `archived_id_owners`;
