-- One row per transaction, keyed by its id like the wallet's transactions table, so the insert
-- pays for the same kind of unique index.
CREATE TABLE entries (
	transaction_id text PRIMARY KEY NOT NULL,
	player_id text NOT NULL,
	amount text NOT NULL,
	created_at_ms integer NOT NULL
);
