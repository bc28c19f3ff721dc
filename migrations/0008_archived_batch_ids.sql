ALTER TABLE `archived_id_owners` ADD `batch_id` text;--> statement-breakpoint
ALTER TABLE `archived_id_owners` ADD `applied_entry_id` integer;--> statement-breakpoint
CREATE INDEX `archived_id_owners_batch_idx` ON `archived_id_owners` (`batch_id`) WHERE "archived_id_owners"."batch_id" IS NOT NULL;