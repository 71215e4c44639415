import { sql } from "drizzle-orm";
import { foldText } from "@edge-music/core/search-text";
import type { Db, Query } from "../lib/db";

export type SearchKind = "track" | "artist" | "album";

/** What the index holds for one entity: its own name and the names around it. */
export type SearchDocument = { kind: SearchKind; refId: string; name: string; context: string };

/**
 * The statements that (re)index one entity, to run in the same D1 batch as the catalog
 * write so the index never disagrees with the catalog.
 */
export function indexQueries(db: Db, doc: SearchDocument): Query[] {
  const folded = foldText(`${doc.name} ${doc.context}`);
  const rowid = sql`(SELECT rowid FROM search_docs WHERE kind = ${doc.kind} AND ref_id = ${doc.refId})`;
  const statements = [
    sql`INSERT INTO search_docs (kind, ref_id) VALUES (${doc.kind}, ${doc.refId})
        ON CONFLICT (kind, ref_id) DO NOTHING`,
    sql`DELETE FROM search_fts WHERE rowid = ${rowid}`,
    sql`INSERT INTO search_fts (rowid, name, context) VALUES (${rowid}, ${doc.name}, ${doc.context})`,
    sql`DELETE FROM search_trigram WHERE rowid = ${rowid}`,
    sql`INSERT INTO search_trigram (rowid, text) VALUES (${rowid}, ${folded})`,
  ];
  return statements.map((statement) => db.run(statement));
}
