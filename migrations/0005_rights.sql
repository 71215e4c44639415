CREATE TABLE `rights_holders` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`user_id` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE TABLE `track_rights` (
	`id` text PRIMARY KEY NOT NULL,
	`track_id` text NOT NULL,
	`territory` text NOT NULL,
	`right_type` text NOT NULL,
	`holder_id` text NOT NULL,
	`share` real NOT NULL,
	`starts_at` integer,
	`expires_at` integer,
	FOREIGN KEY (`track_id`) REFERENCES `tracks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`holder_id`) REFERENCES `rights_holders`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `track_rights_lookup_idx` ON `track_rights` (`track_id`,`right_type`,`territory`);