ALTER TABLE `transactions` ADD `refusal_code` text;--> statement-breakpoint
ALTER TABLE `transactions` ADD `refusal_message` text;--> statement-breakpoint
ALTER TABLE `transactions` ADD `refusal_balance_minor` integer;