CREATE TABLE `listening_history` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`track_id` text NOT NULL,
	`played_at` integer NOT NULL,
	`territory` text NOT NULL,
	`plan` text NOT NULL,
	`rendition` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `listening_history_user_idx` ON `listening_history` (`user_id`,`played_at`,`id`);--> statement-breakpoint
CREATE TABLE `playbacks` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`track_id` text NOT NULL,
	`territory` text NOT NULL,
	`plan` text NOT NULL,
	`shard` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`track_id`) REFERENCES `tracks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `playbacks_expiry_idx` ON `playbacks` (`expires_at`);--> statement-breakpoint
CREATE INDEX `playbacks_track_idx` ON `playbacks` (`track_id`,`shard`);--> statement-breakpoint
CREATE TABLE `royalty_rollups` (
	`track_id` text NOT NULL,
	`day` text NOT NULL,
	`territory` text NOT NULL,
	`plan` text NOT NULL,
	`rendition` text NOT NULL,
	`shard` integer NOT NULL,
	`streams` integer NOT NULL,
	`played_ms` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`track_id`, `day`, `territory`, `plan`, `rendition`, `shard`)
);
--> statement-breakpoint
CREATE INDEX `royalty_rollups_day_idx` ON `royalty_rollups` (`day`,`track_id`);--> statement-breakpoint
CREATE INDEX `royalty_rollups_updated_idx` ON `royalty_rollups` (`updated_at`);