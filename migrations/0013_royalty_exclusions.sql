-- Edited by hand: rows from before exclusions are royalty-bearing (''), not the text 'exclusion'.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_royalty_rollups` (
	`track_id` text NOT NULL,
	`day` text NOT NULL,
	`territory` text NOT NULL,
	`plan` text NOT NULL,
	`rendition` text NOT NULL,
	`exclusion` text DEFAULT '' NOT NULL,
	`shard` integer NOT NULL,
	`streams` integer NOT NULL,
	`played_ms` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`track_id`, `day`, `territory`, `plan`, `rendition`, `exclusion`, `shard`)
);
--> statement-breakpoint
INSERT INTO `__new_royalty_rollups`("track_id", "day", "territory", "plan", "rendition", "exclusion", "shard", "streams", "played_ms", "updated_at") SELECT "track_id", "day", "territory", "plan", "rendition", '', "shard", "streams", "played_ms", "updated_at" FROM `royalty_rollups`;--> statement-breakpoint
DROP TABLE `royalty_rollups`;--> statement-breakpoint
ALTER TABLE `__new_royalty_rollups` RENAME TO `royalty_rollups`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `royalty_rollups_day_idx` ON `royalty_rollups` (`day`,`track_id`);--> statement-breakpoint
CREATE INDEX `royalty_rollups_updated_idx` ON `royalty_rollups` (`updated_at`);