CREATE TABLE `storage_deletions` (
	`prefix` text PRIMARY KEY NOT NULL,
	`requested_at` integer NOT NULL
);
