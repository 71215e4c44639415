CREATE TABLE `asset_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`track_id` text NOT NULL,
	`upload_id` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`integrated_lufs` real NOT NULL,
	`loudness_range_lu` real NOT NULL,
	`true_peak_dbfs` real NOT NULL,
	`gain_db` real NOT NULL,
	`fingerprint` text NOT NULL,
	`renditions` text NOT NULL,
	`files` text NOT NULL,
	`waveform_samples_per_pixel` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`track_id`) REFERENCES `tracks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `asset_versions_track_idx` ON `asset_versions` (`track_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `asset_versions_upload_idx` ON `asset_versions` (`upload_id`);--> statement-breakpoint
CREATE TABLE `uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`filename` text NOT NULL,
	`content_type` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`object_key` text,
	`state` text DEFAULT 'awaiting_upload' NOT NULL,
	`stage` text,
	`percent` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_until` integer,
	`failure_code` text,
	`failure_reason` text,
	`title` text,
	`artist_id` text,
	`album_id` text,
	`visibility` text DEFAULT 'private' NOT NULL,
	`track_id` text,
	`duplicate_of` text,
	`expires_at` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`artist_id`) REFERENCES `artists`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`album_id`) REFERENCES `albums`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`track_id`) REFERENCES `tracks`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`duplicate_of`) REFERENCES `tracks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `uploads_user_idx` ON `uploads` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `uploads_state_idx` ON `uploads` (`state`,`updated_at`);--> statement-breakpoint
ALTER TABLE `tracks` ADD `asset_version_id` text;--> statement-breakpoint
ALTER TABLE `tracks` ADD `fingerprint` text;