ALTER TABLE `transactions` ADD `brand_id` text;--> statement-breakpoint
ALTER TABLE `transactions` ADD `every_brand` integer DEFAULT 0 NOT NULL;