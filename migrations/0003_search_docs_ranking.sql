ALTER TABLE `search_docs` ADD `popularity` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `search_docs` ADD `visibility` text DEFAULT 'public' NOT NULL;--> statement-breakpoint
ALTER TABLE `search_docs` ADD `owner_id` text;--> statement-breakpoint
UPDATE `search_docs` SET
  `popularity` = (SELECT `popularity` FROM `tracks` WHERE `tracks`.`id` = `search_docs`.`ref_id`),
  `visibility` = (SELECT `visibility` FROM `tracks` WHERE `tracks`.`id` = `search_docs`.`ref_id`),
  `owner_id` = (SELECT `owner_id` FROM `tracks` WHERE `tracks`.`id` = `search_docs`.`ref_id`)
WHERE `kind` = 'track';
--> statement-breakpoint
UPDATE `search_docs` SET `popularity` = (SELECT `popularity` FROM `artists` WHERE `artists`.`id` = `search_docs`.`ref_id`) WHERE `kind` = 'artist';
--> statement-breakpoint
UPDATE `search_docs` SET `popularity` = (SELECT `popularity` FROM `albums` WHERE `albums`.`id` = `search_docs`.`ref_id`) WHERE `kind` = 'album';
