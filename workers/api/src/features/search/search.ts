import { inArray, sql, type SQL } from "drizzle-orm";
import { albums, artists, tracks } from "@edge-music/core/db/schema";
import {
  COMPLETION_PREFIX_MAX_CHARS,
  ftsPrefixQuery,
  searchWords,
  trigrams,
} from "@edge-music/core/search-text";
import type { Viewer } from "../../app-env";
import type { Db } from "../../lib/db";
import { decodeCursor, encodeCursor } from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { selectAlbums, toAlbumView, type AlbumView } from "../catalog/album-view";
import { iso } from "../catalog/catalog-access";
import type { SearchKind } from "./search-index";
import { selectTracks, toTrackView, type TrackView } from "../catalog/track-view";

/** How a result list was found: every word as typed, or by the typo-tolerant fallback. */
export type MatchMode = "exact" | "fuzzy";

export type ArtistHit = { id: string; name: string; bio: string; createdAt: string };
export type SearchResult = {
  items: (TrackView | ArtistHit | AlbumView)[];
  nextCursor: string | null;
  match: MatchMode;
};
export type Suggestion = { type: SearchKind; id: string; text: string; subtitle: string };

/** Results the fallback considers at most, and the share of trigrams a result must hold. */
const FUZZY_CANDIDATES_MAX = 500;
const FUZZY_MIN_SHARE = 0.5;
export const SUGGEST_LIMIT = 8;

/**
 * The one-word type-ahead query: an index seek into search_completions, then the names of
 * at most twice the suggestions (a name can hold the prefix twice). Exported for the bench.
 */
export function completionQuery(prefix: string): SQL {
  const cut = [...prefix].slice(0, COMPLETION_PREFIX_MAX_CHARS).join("");
  return sql`
    SELECT c.doc_rowid AS rowid, d.kind AS kind, d.ref_id AS refId,
           search_fts.name AS name, search_fts.context AS context
    FROM (
      SELECT doc_rowid, starts, popularity FROM search_completions
      WHERE prefix = ${cut}
      ORDER BY starts DESC, popularity DESC, doc_rowid DESC
      LIMIT ${SUGGEST_LIMIT * 2}
    ) c
    JOIN search_docs d ON d.rowid = c.doc_rowid
    JOIN search_fts ON search_fts.rowid = c.doc_rowid
    ORDER BY c.starts DESC, c.popularity DESC, c.doc_rowid DESC`;
}

type Hit = { kind: SearchKind; refId: string };

/**
 * Search over the FTS5 index: every word must match (the last as a prefix), ranked by
 * relevance (bm25, title weighted over artist/album names) and then popularity. When that
 * finds nothing, trigram overlap tolerates typos.
 */
export class SearchService {
  constructor(private readonly db: Db) {}

  async search(
    viewer: Viewer | null,
    query: { q: string; type: SearchKind; limit: number; cursor?: string | undefined },
  ): Promise<SearchResult> {
    const words = searchWords(query.q);
    const cursor = decodeCursor(query.cursor);
    const offset = cursor ? Number(cursor[0]) : 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new DomainError("INVALID_CURSOR", "The cursor is not one this list handed out.");
    }
    let match: MatchMode = cursor?.[1] === "fuzzy" ? "fuzzy" : "exact";
    if (words.length === 0) return { items: [], nextCursor: null, match };
    const fetch = { kinds: [query.type], limit: query.limit + 1, offset };
    let hits = match === "exact" ? await this.exact(viewer, words, fetch) : [];
    if (hits.length === 0 && offset === 0) {
      match = "fuzzy";
      hits = await this.fuzzy(viewer, words, fetch);
    }
    const page = hits.slice(0, query.limit);
    const nextCursor =
      hits.length > query.limit ? encodeCursor([offset + query.limit, match]) : null;
    return { items: await this.hydrate(query.type, page), nextCursor, match };
  }

  /** Type-ahead: a few mixed tracks, artists and albums for a partial query. */
  async suggest(
    viewer: Viewer | null,
    q: string,
  ): Promise<{ items: Suggestion[]; match: MatchMode }> {
    const words = searchWords(q);
    if (words.length === 0) return { items: [], match: "exact" };
    const fetch = {
      kinds: ["track", "artist", "album"] as SearchKind[],
      limit: SUGGEST_LIMIT,
      offset: 0,
    };
    let match: MatchMode = "exact";
    // One word: an index seek in the completion table. More: FTS5, whose AND of whole
    // words keeps the matches to rank few.
    let hits =
      words.length === 1
        ? await this.complete(words[0] ?? "")
        : await this.exact(viewer, words, fetch, true);
    if (hits.length === 0) {
      match = "fuzzy";
      hits = await this.fuzzy(viewer, words, fetch, true);
    }
    return {
      items: hits.map((h) => ({
        type: h.kind,
        id: h.refId,
        text: h.name ?? "",
        subtitle: h.context ?? "",
      })),
      match,
    };
  }

  /** Listed documents with a word starting with `prefix`: name-initial first, then popularity. */
  private async complete(prefix: string) {
    const rows = await this.db.all<Hit & { rowid: number; name: string; context: string }>(
      completionQuery(prefix),
    );
    // A document whose first and later words share the prefix comes back twice.
    const seen = new Set<number>();
    return rows.filter((r) => !seen.has(r.rowid) && seen.add(r.rowid)).slice(0, SUGGEST_LIMIT);
  }

  private async exact(
    viewer: Viewer | null,
    words: string[],
    fetch: { kinds: SearchKind[]; limit: number; offset: number },
    withText = false,
  ) {
    const text = withText ? sql`, search_fts.name AS name, search_fts.context AS context` : sql``;
    return this.db.all<Hit & { name?: string; context?: string }>(sql`
      SELECT d.kind AS kind, d.ref_id AS refId ${text}
      FROM search_fts
      JOIN search_docs d ON d.rowid = search_fts.rowid
      WHERE search_fts MATCH ${ftsPrefixQuery(words)}
        AND ${this.kindAndVisibility(viewer, fetch.kinds)}
      ORDER BY round(bm25(search_fts, 10.0, 2.0), 2), d.popularity DESC, d.rowid
      LIMIT ${fetch.limit} OFFSET ${fetch.offset}`);
  }

  /** Candidates sharing trigrams with the query, kept when they hold enough of them. */
  private async fuzzy(
    viewer: Viewer | null,
    words: string[],
    fetch: { kinds: SearchKind[]; limit: number; offset: number },
    withText = false,
  ) {
    const grams = trigrams(words);
    if (grams.length === 0) return [];
    const matchExpr = grams.map((g) => `"${g}"`).join(" OR ");
    const hitsExpr = sql.join(
      grams.map((g) => sql`(instr(search_trigram.text, ${g}) > 0)`),
      sql` + `,
    );
    const minHits = Math.max(1, Math.ceil(grams.length * FUZZY_MIN_SHARE));
    const text = withText
      ? sql`, (SELECT name FROM search_fts WHERE rowid = c.rowid) AS name,
             (SELECT context FROM search_fts WHERE rowid = c.rowid) AS context`
      : sql``;
    return this.db.all<Hit & { name?: string; context?: string }>(sql`
      SELECT c.kind AS kind, c.refId AS refId ${text} FROM (
        SELECT d.rowid AS rowid, d.kind AS kind, d.ref_id AS refId, ${hitsExpr} AS hits,
          d.popularity AS popularity
        FROM search_trigram
        JOIN search_docs d ON d.rowid = search_trigram.rowid
        WHERE search_trigram MATCH ${matchExpr}
          AND ${this.kindAndVisibility(viewer, fetch.kinds)}
        LIMIT ${FUZZY_CANDIDATES_MAX}
      ) c
      WHERE c.hits >= ${minHits}
      ORDER BY c.hits DESC, c.popularity DESC, c.rowid
      LIMIT ${fetch.limit} OFFSET ${fetch.offset}`);
  }

  private kindAndVisibility(viewer: Viewer | null, kinds: SearchKind[]): SQL {
    const kindList = sql.join(
      kinds.map((k) => sql`${k}`),
      sql`, `,
    );
    // Unlisted and private tracks are found only by their owner.
    const own = viewer ? sql` OR d.owner_id = ${viewer.id}` : sql``;
    return sql`d.kind IN (${kindList}) AND (d.visibility = 'public'${own})`;
  }

  private async hydrate(kind: SearchKind, hits: Hit[]): Promise<SearchResult["items"]> {
    const ids = hits.map((h) => h.refId);
    if (ids.length === 0) return [];
    const order = new Map(ids.map((id, i) => [id, i]));
    const byRank = <T extends { id: string }>(items: T[]) =>
      items.sort((x, y) => (order.get(x.id) ?? 0) - (order.get(y.id) ?? 0));
    if (kind === "track") {
      const rows = await selectTracks(this.db).where(inArray(tracks.id, ids));
      return byRank(rows.map(toTrackView));
    }
    if (kind === "artist") {
      const rows = await this.db.select().from(artists).where(inArray(artists.id, ids));
      return byRank(
        rows.map((a) => ({ id: a.id, name: a.name, bio: a.bio, createdAt: iso(a.createdAt) })),
      );
    }
    const rows = await selectAlbums(this.db).where(inArray(albums.id, ids));
    return byRank(rows.map((r) => toAlbumView(r.album, r.artistName, r.genreName)));
  }
}
