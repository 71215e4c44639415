CREATE TABLE `recommendation_signal` (
	`user_id` text NOT NULL,
	`track_id` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `track_id`)
);
--> statement-breakpoint
CREATE INDEX `recommendation_signal_track_idx` ON `recommendation_signal` (`track_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `track_listeners` (
	`track_id` text PRIMARY KEY NOT NULL,
	`listeners` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `track_neighbors` (
	`track_id` text NOT NULL,
	`neighbor_id` text NOT NULL,
	`score` real NOT NULL,
	`co_listeners` integer NOT NULL,
	`computed_at` integer NOT NULL,
	PRIMARY KEY(`track_id`, `neighbor_id`)
);
--> statement-breakpoint
CREATE INDEX `track_neighbors_rank_idx` ON `track_neighbors` (`track_id`,`score`);