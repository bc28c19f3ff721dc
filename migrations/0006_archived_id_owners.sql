CREATE TABLE `archived_id_owners` (
	`transaction_id` text PRIMARY KEY NOT NULL,
	`player_id` text NOT NULL,
	`day` integer NOT NULL
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `archived_id_owners_day_idx` ON `archived_id_owners` (`day`);--> statement-breakpoint
-- Added by hand (drizzle-kit writes neither WITHOUT ROWID nor triggers): an id whose row the archive
-- moved to archived_id_owners is still taken, so the primary key's refusal holds across archival
-- (docs/archive.md). The message is the primary key's, so the wallet reads it as "id taken".
CREATE TRIGGER `transactions_id_not_archived` BEFORE INSERT ON `transactions`
WHEN EXISTS (SELECT 1 FROM `archived_id_owners` WHERE `transaction_id` = NEW.`transaction_id`)
BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: transactions.transaction_id (archived)'); END;
