import { and, eq, sql } from "drizzle-orm";
import { searchDocs, type Visibility } from "@edge-music/core/db/schema";
import { searchCompletions, searchFts, searchTrigram } from "@edge-music/core/db/search-tables";
import { completionPrefixes, foldText } from "@edge-music/core/search-text";
import type { Db, Query } from "../../lib/db";
import type { PersonalData } from "../privacy/personal-data";

export type SearchKind = "track" | "artist" | "album";

/**
 * What the index holds for one entity: its own name, the names around it, and what ranking
 * and filtering need (artists and albums are always public and ownerless here).
 */
export type SearchDocument = {
  kind: SearchKind;
  refId: string;
  name: string;
  context: string;
  popularity: number;
  visibility: Visibility;
  ownerId: string | null;
};

/** D1 binds at most 100 parameters a statement; a completion row takes five. */
const COMPLETION_ROWS_PER_INSERT = 15;

/**
 * The queries that (re)index one entity, to run in the same D1 batch as the catalog write
 * so the index never disagrees with the catalog.
 */
export function indexQueries(db: Db, doc: SearchDocument): Query[] {
  const { popularity, visibility, ownerId } = doc;
  const rowid = docRowid(doc.kind, doc.refId);
  // Only what everyone may see is suggested; owners find their own tracks with search.
  const completions = doc.visibility === "public" ? completionPrefixes(doc.name) : [];
  const completionInserts: Query[] = [];
  for (let i = 0; i < completions.length; i += COMPLETION_ROWS_PER_INSERT) {
    const rows = completions.slice(i, i + COMPLETION_ROWS_PER_INSERT);
    completionInserts.push(
      db
        .insert(searchCompletions)
        .values(rows.map((r) => ({ ...r, popularity: doc.popularity, docRowid: rowid })))
        .onConflictDoNothing(),
    );
  }
  return [
    db
      .insert(searchDocs)
      .values({ kind: doc.kind, refId: doc.refId, popularity, visibility, ownerId })
      .onConflictDoUpdate({
        target: [searchDocs.kind, searchDocs.refId],
        set: { popularity, visibility, ownerId },
      }),
    db.delete(searchFts).where(eq(searchFts.rowid, rowid)),
    db.insert(searchFts).values({ rowid, name: doc.name, context: doc.context }),
    db.delete(searchTrigram).where(eq(searchTrigram.rowid, rowid)),
    db.insert(searchTrigram).values({ rowid, text: foldText(`${doc.name} ${doc.context}`) }),
    db.delete(searchCompletions).where(eq(searchCompletions.docRowid, rowid)),
    ...completionInserts,
  ];
}

type Named = { id: string; popularity: number };

export const artistDoc = (a: Named & { name: string }): SearchDocument => ({
  kind: "artist",
  refId: a.id,
  name: a.name,
  context: "",
  popularity: a.popularity,
  visibility: "public",
  ownerId: null,
});

export const albumDoc = (a: Named & { title: string }, artistName: string): SearchDocument => ({
  kind: "album",
  refId: a.id,
  name: a.title,
  context: artistName,
  popularity: a.popularity,
  visibility: "public",
  ownerId: null,
});

/** A track is found by its title, then its artist and album names. */
export const trackDoc = (
  t: Named & { title: string; visibility: Visibility; ownerId: string },
  artistName: string,
  albumTitle: string | null,
): SearchDocument => ({
  kind: "track",
  refId: t.id,
  name: t.title,
  context: albumTitle ? `${artistName} · ${albumTitle}` : artistName,
  popularity: t.popularity,
  visibility: t.visibility,
  ownerId: t.ownerId,
});

/** The queries that move an entity's popularity in the index (its row and completions). */
export function popularityQueries(
  db: Db,
  kind: SearchKind,
  refId: string,
  popularity: number,
): Query[] {
  return [
    db
      .update(searchDocs)
      .set({ popularity })
      .where(and(eq(searchDocs.kind, kind), eq(searchDocs.refId, refId))),
    db
      .update(searchCompletions)
      .set({ popularity })
      .where(eq(searchCompletions.docRowid, docRowid(kind, refId))),
  ];
}

/** The index rowid of an entity, as a subquery usable inside a batch. */
function docRowid(kind: SearchKind, refId: string) {
  return sql`(SELECT ${searchDocs.rowid} FROM ${searchDocs} WHERE ${and(
    eq(searchDocs.kind, kind),
    eq(searchDocs.refId, refId),
  )})`;
}

/** An erasure takes the account's tracks out of every search table. */
export const SEARCH_PERSONAL_DATA: PersonalData = {
  erase: [
    ...[
      "search_completions WHERE doc_rowid",
      "search_fts WHERE rowid",
      "search_trigram WHERE rowid",
    ].map(
      (target) =>
        `DELETE FROM ${target} IN (SELECT rowid FROM search_docs WHERE kind = 'track' AND owner_id = ?1)`,
    ),
    "DELETE FROM search_docs WHERE kind = 'track' AND owner_id = ?1",
  ],
};
