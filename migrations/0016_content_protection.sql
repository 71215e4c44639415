CREATE TABLE `content_keys` (
	`key_id` text PRIMARY KEY NOT NULL,
	`asset_version_id` text NOT NULL,
	`kek_id` text NOT NULL,
	`wrapped_key` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`asset_version_id`) REFERENCES `asset_versions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `content_keys_asset_version_id_unique` ON `content_keys` (`asset_version_id`);--> statement-breakpoint
CREATE TABLE `license_audit` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`track_id` text NOT NULL,
	`asset_version_id` text NOT NULL,
	`key_id` text NOT NULL,
	`territory` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `license_audit_user_idx` ON `license_audit` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `license_audit_asset_idx` ON `license_audit` (`asset_version_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `asset_versions` ADD `key_id` text;