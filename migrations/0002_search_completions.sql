-- Type-ahead completions: a row per word prefix (1 to 12 folded characters) of each
-- publicly listed document's name. Written by the api's search index service.
CREATE TABLE search_completions (
  prefix TEXT NOT NULL,
  starts INTEGER NOT NULL,
  popularity INTEGER NOT NULL,
  doc_rowid INTEGER NOT NULL,
  PRIMARY KEY (prefix, starts, popularity, doc_rowid)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX search_completions_doc_idx ON search_completions (doc_rowid);
