import { and, eq, sql } from "drizzle-orm";
import { albums, artists, genres, tracks, users } from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import { newId } from "../../lib/crypto";
import { runBatch, type Db, type Query } from "../../lib/db";
import {
  decodeCursor,
  keyset,
  toPage,
  type Page,
  type PageQuery,
  type Patch,
} from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { toAlbumView, type AlbumView } from "./album-view";
import { iso, requireArtistManager, requireCatalogEditor } from "./catalog-access";
import { albumDoc, artistDoc, indexQueries, trackDoc } from "../search/search-index";
import { rowsOf, type PersonalData } from "../privacy/personal-data";

export type ArtistView = {
  id: string;
  name: string;
  bio: string;
  ownerId: string | null;
  createdAt: string;
  updatedAt: string;
};

export type ArtistInput = { name: string; bio?: string | undefined; ownerId?: string | undefined };

type ArtistRow = typeof artists.$inferSelect;

export const toArtistView = (a: ArtistRow): ArtistView => ({
  id: a.id,
  name: a.name,
  bio: a.bio,
  ownerId: a.ownerId,
  createdAt: iso(a.createdAt),
  updatedAt: iso(a.updatedAt),
});

/** Artists: reads for everyone, writes for admins and the owning artist account. */
export class ArtistService {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<ArtistView> {
    return toArtistView(await this.row(id));
  }

  async create(viewer: Viewer | null, input: ArtistInput): Promise<ArtistView> {
    const editor = requireCatalogEditor(viewer);
    // Admin-made artists belong to no account unless the admin names one.
    const ownerId =
      input.ownerId !== undefined
        ? await this.assignableOwner(editor, input.ownerId)
        : editor.role === "admin"
          ? null
          : editor.id;
    const now = Date.now();
    const row: ArtistRow = {
      id: newId("art"),
      name: input.name,
      bio: input.bio ?? "",
      ownerId,
      popularity: 0,
      createdAt: now,
      updatedAt: now,
    };
    await runBatch(this.db, [
      this.db.insert(artists).values(row),
      ...indexQueries(this.db, artistDoc(row)),
    ]);
    return toArtistView(row);
  }

  async update(viewer: Viewer | null, id: string, patch: Patch<ArtistInput>): Promise<ArtistView> {
    const editor = requireCatalogEditor(viewer);
    const current = await this.row(id);
    requireArtistManager(editor, current);
    const next: ArtistRow = {
      ...current,
      name: patch.name ?? current.name,
      bio: patch.bio ?? current.bio,
      ownerId:
        patch.ownerId === undefined
          ? current.ownerId
          : await this.assignableOwner(editor, patch.ownerId),
      updatedAt: Date.now(),
    };
    const reindex = next.name === current.name ? [] : await this.reindexChildren(id, next.name);
    await runBatch(this.db, [
      this.db
        .update(artists)
        .set({ name: next.name, bio: next.bio, ownerId: next.ownerId, updatedAt: next.updatedAt })
        .where(eq(artists.id, id)),
      ...indexQueries(this.db, artistDoc(next)),
      ...reindex,
    ]);
    return toArtistView(next);
  }

  async listAlbums(id: string, page: PageQuery): Promise<Page<AlbumView>> {
    const artist = await this.row(id);
    const releaseKey = sql`coalesce(${albums.releaseDate}, '')`;
    const { where, orderBy } = keyset(releaseKey, "desc", albums.id, decodeCursor(page.cursor));
    const rows = await this.db
      .select({ album: albums, genreName: genres.name })
      .from(albums)
      .leftJoin(genres, eq(genres.id, albums.genreId))
      .where(and(eq(albums.artistId, id), where))
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    return toPage(
      rows,
      page.limit,
      (r) => [r.album.releaseDate ?? "", r.album.id],
      (r) => toAlbumView(r.album, artist.name, r.genreName),
    );
  }

  /** The artist's most streamed tracks the viewer may see (popularity kept by the plays pipeline). */
  private async row(id: string): Promise<ArtistRow> {
    const row = await this.db.select().from(artists).where(eq(artists.id, id)).get();
    if (!row) throw notFound("The artist");
    return row;
  }

  /** Only admins hand an artist to an account, and only to an artist account. */
  private async assignableOwner(editor: Viewer, ownerId: string): Promise<string> {
    if (editor.role !== "admin") {
      throw new DomainError("FORBIDDEN", "Only admins can assign an artist to an account.");
    }
    const owner = await this.db.select().from(users).where(eq(users.id, ownerId)).get();
    if (!owner || owner.role === "listener") {
      throw new DomainError("INVALID_OWNER", "The owner must be an existing artist account.");
    }
    return owner.id;
  }

  /** An artist's name is context in its albums' and tracks' search entries. */
  private async reindexChildren(artistId: string, artistName: string): Promise<Query[]> {
    const [albumRows, trackRows] = await Promise.all([
      this.db.select().from(albums).where(eq(albums.artistId, artistId)),
      this.db
        .select({ track: tracks, albumTitle: albums.title })
        .from(tracks)
        .leftJoin(albums, eq(albums.id, tracks.albumId))
        .where(eq(tracks.artistId, artistId)),
    ]);
    return [
      ...albumRows.flatMap((a) => indexQueries(this.db, albumDoc(a, artistName))),
      ...trackRows.flatMap((r) =>
        indexQueries(this.db, trackDoc(r.track, artistName, r.albumTitle)),
      ),
    ];
  }
}

export const ARTIST_PERSONAL_DATA: PersonalData = {
  export: [{ name: "artists", sql: rowsOf("artists", "owner_id") }],
};
