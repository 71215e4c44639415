import { and, eq } from "drizzle-orm";
import { genres, tracks } from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import type { Db, Query } from "../../lib/db";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { genreSlug } from "./catalog-access";
import { selectTracks, toTrackView, type TrackView } from "./track-view";
import { trackListed } from "./visibility";

export type GenreView = { id: string; name: string };

/** Genres are named freely by whoever tags a track or album; the slug is the id. */
export class GenreService {
  constructor(private readonly db: Db) {}

  /** The genre id for a name, and the query that creates it if new (for the caller's batch). */
  upsert(name: string): { id: string; query: Query } {
    const id = genreSlug(name);
    if (!id) throw new DomainError("INVALID_GENRE", "A genre needs at least one letter or digit.");
    const query = this.db.insert(genres).values({ id, name: name.trim() }).onConflictDoNothing();
    return { id, query };
  }

  async list(page: PageQuery): Promise<Page<GenreView>> {
    const { where, orderBy } = keyset(genres.id, "asc", genres.id, decodeCursor(page.cursor));
    const rows = await this.db
      .select()
      .from(genres)
      .where(where)
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    return toPage(
      rows,
      page.limit,
      (g) => [g.id, g.id],
      (g) => ({ id: g.id, name: g.name }),
    );
  }

  /** A genre's tracks the viewer may see, most streamed first. */
  async tracks(viewer: Viewer | null, id: string, page: PageQuery): Promise<Page<TrackView>> {
    const genre = await this.db.select().from(genres).where(eq(genres.id, id)).get();
    if (!genre) throw notFound("The genre");
    const cursor = decodeCursor(page.cursor);
    const { where, orderBy } = keyset(tracks.popularity, "desc", tracks.id, cursor);
    const rows = await selectTracks(this.db)
      .where(and(eq(tracks.genreId, id), trackListed(viewer), where))
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    return toPage(rows, page.limit, (r) => [r.track.popularity, r.track.id], toTrackView);
  }
}
