import { and, eq, sql } from "drizzle-orm";
import { searchDocs } from "@edge-music/core/db/schema";
import { searchFts, searchTrigram } from "@edge-music/core/db/fts";
import { foldText } from "@edge-music/core/search-text";
import type { Db, Query } from "../lib/db";

export type SearchKind = "track" | "artist" | "album";

/** What the index holds for one entity: its own name and the names around it. */
export type SearchDocument = { kind: SearchKind; refId: string; name: string; context: string };

/**
 * The queries that (re)index one entity, to run in the same D1 batch as the catalog write
 * so the index never disagrees with the catalog.
 */
export function indexQueries(db: Db, doc: SearchDocument): Query[] {
  const rowid = sql`(SELECT ${searchDocs.rowid} FROM ${searchDocs} WHERE ${and(
    eq(searchDocs.kind, doc.kind),
    eq(searchDocs.refId, doc.refId),
  )})`;
  return [
    db.insert(searchDocs).values({ kind: doc.kind, refId: doc.refId }).onConflictDoNothing(),
    db.delete(searchFts).where(eq(searchFts.rowid, rowid)),
    db.insert(searchFts).values({ rowid, name: doc.name, context: doc.context }),
    db.delete(searchTrigram).where(eq(searchTrigram.rowid, rowid)),
    db.insert(searchTrigram).values({ rowid, text: foldText(`${doc.name} ${doc.context}`) }),
  ];
}
