CREATE TABLE `lease_checks` (
	`upload_id` text PRIMARY KEY NOT NULL
);
