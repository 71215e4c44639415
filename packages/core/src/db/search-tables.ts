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

/**
 * Type-ahead completions: one row per (word prefix, listed document), so a one-word suggest
 * is an index seek ordered by `starts` (the prefix begins the name) then popularity,
 * whatever the catalog size. Only publicly listed documents get rows.
 */
export const searchCompletions = sqliteTable("search_completions", {
  prefix: text("prefix").notNull(),
  starts: integer("starts").notNull(),
  popularity: integer("popularity").notNull(),
  docRowid: integer("doc_rowid").notNull(),
});
