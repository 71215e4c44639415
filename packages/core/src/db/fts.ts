import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The FTS5 virtual tables of migrations/0001_search_fts.sql, described for drizzle's query
 * builder only. They live outside schema.ts so drizzle-kit never tries to create them.
 */
export const searchFts = sqliteTable("search_fts", {
  rowid: integer("rowid").notNull(),
  name: text("name").notNull(),
  context: text("context").notNull(),
});

export const searchTrigram = sqliteTable("search_trigram", {
  rowid: integer("rowid").notNull(),
  text: text("text").notNull(),
});
