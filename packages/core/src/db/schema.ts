import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Millisecond epoch default for created/updated columns. */
const nowMs = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

export const ROLES = ["listener", "artist", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const VISIBILITIES = ["public", "unlisted", "private"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** `pending`: metadata only, no audio yet; the ingest pipeline moves it on. */
export const TRACK_STATUSES = ["pending", "processing", "ready", "failed"] as const;
export type TrackStatus = (typeof TRACK_STATUSES)[number];

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  displayName: text("display_name").notNull(),
  /** `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>` */
  passwordHash: text("password_hash").notNull(),
  role: text("role", { enum: ROLES }).notNull().default("listener"),
  plan: text("plan").notNull().default("free"),
  createdAt: integer("created_at").notNull().default(nowMs),
  updatedAt: integer("updated_at").notNull().default(nowMs),
});

/** A device session: one per login, the unit a user lists and revokes. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    userAgent: text("user_agent").notNull(),
    createdAt: integer("created_at").notNull().default(nowMs),
    lastUsedAt: integer("last_used_at").notNull().default(nowMs),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId, t.createdAt)],
);

/** Refresh tokens, stored only as SHA-256 hashes; `usedAt` set once rotated. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull().default(nowMs),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("refresh_tokens_session_idx").on(t.sessionId)],
);

export const genres = sqliteTable("genres", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
});

export const artists = sqliteTable(
  "artists",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    bio: text("bio").notNull().default(""),
    /** The artist account that manages this artist; null for admin-managed ones. */
    ownerId: text("owner_id").references(() => users.id, { onDelete: "set null" }),
    popularity: integer("popularity").notNull().default(0),
    createdAt: integer("created_at").notNull().default(nowMs),
    updatedAt: integer("updated_at").notNull().default(nowMs),
  },
  (t) => [index("artists_owner_idx").on(t.ownerId)],
);

export const albums = sqliteTable(
  "albums",
  {
    id: text("id").primaryKey(),
    artistId: text("artist_id")
      .notNull()
      .references(() => artists.id),
    title: text("title").notNull(),
    releaseDate: text("release_date"),
    genreId: text("genre_id").references(() => genres.id),
    popularity: integer("popularity").notNull().default(0),
    createdAt: integer("created_at").notNull().default(nowMs),
    updatedAt: integer("updated_at").notNull().default(nowMs),
  },
  (t) => [index("albums_artist_idx").on(t.artistId, t.releaseDate, t.id)],
);

export const tracks = sqliteTable(
  "tracks",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    artistId: text("artist_id")
      .notNull()
      .references(() => artists.id),
    albumId: text("album_id").references(() => albums.id),
    trackNumber: integer("track_number"),
    durationMs: integer("duration_ms"),
    genreId: text("genre_id").references(() => genres.id),
    isrc: text("isrc"),
    releaseDate: text("release_date"),
    explicit: integer("explicit", { mode: "boolean" }).notNull().default(false),
    visibility: text("visibility", { enum: VISIBILITIES }).notNull().default("public"),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id),
    status: text("status", { enum: TRACK_STATUSES }).notNull().default("pending"),
    /** Counted streams; the plays pipeline keeps it current. */
    popularity: integer("popularity").notNull().default(0),
    createdAt: integer("created_at").notNull().default(nowMs),
    updatedAt: integer("updated_at").notNull().default(nowMs),
  },
  (t) => [
    index("tracks_album_idx").on(t.albumId, t.trackNumber),
    index("tracks_artist_pop_idx").on(t.artistId, t.popularity, t.id),
    index("tracks_genre_pop_idx").on(t.genreId, t.popularity, t.id),
    index("tracks_owner_idx").on(t.ownerId),
    uniqueIndex("tracks_isrc_idx").on(t.isrc),
  ],
);

/**
 * One row per searchable entity; its rowid is the rowid of the FTS5 tables
 * `search_fts` (unicode61, diacritics folded) and `search_trigram` (typo fallback),
 * which are created by a hand-written migration. Popularity, visibility and owner are
 * copies kept here so ranking and filtering a match costs one lookup, not a join per kind.
 */
export const searchDocs = sqliteTable(
  "search_docs",
  {
    rowid: integer("rowid").primaryKey({ autoIncrement: true }),
    kind: text("kind", { enum: ["track", "artist", "album"] }).notNull(),
    refId: text("ref_id").notNull(),
    popularity: integer("popularity").notNull().default(0),
    visibility: text("visibility", { enum: VISIBILITIES }).notNull().default("public"),
    ownerId: text("owner_id"),
  },
  (t) => [uniqueIndex("search_docs_ref_idx").on(t.kind, t.refId)],
);
