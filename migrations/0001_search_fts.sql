-- Full-text search over tracks, artists and albums. Rows share rowids with search_docs and
-- are written by the api's search index service in the same batch as the catalog change.
-- name: the title (or artist name); context: artist and album names, for "artist title" queries.
CREATE VIRTUAL TABLE search_fts USING fts5(
  name,
  context,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '1 2 3 4'
);
--> statement-breakpoint
-- Typo-tolerant fallback: the same text, folded by the api, indexed as trigrams.
CREATE VIRTUAL TABLE search_trigram USING fts5(text, tokenize = 'trigram');
