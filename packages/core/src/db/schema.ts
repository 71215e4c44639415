import { sql } from "drizzle-orm";
import { PLANS } from "../renditions";
import {
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/**
 * Milliseconds since the epoch, as SQL: the default of created/updated columns, and what
 * hand-written statements use to take times from D1's clock.
 */
export const NOW_MS_SQL = "cast(unixepoch('subsec') * 1000 as integer)";
const nowMs = sql.raw(`(${NOW_MS_SQL})`);

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
  plan: text("plan", { enum: PLANS }).notNull().default("free"),
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
    /** The playable asset version; null until an upload for this track is ready. */
    assetVersionId: text("asset_version_id"),
    /** Chromaprint of the current asset, to flag duplicate uploads by the same owner. */
    fingerprint: text("fingerprint"),
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

/** Upload and ingest job states; every transition is a conditional UPDATE. */
export const UPLOAD_STATES = [
  "awaiting_upload",
  "queued",
  "processing",
  "ready",
  "failed",
] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

/** An upload and its ingest job: one row from presigned PUT to a playable track. */
export const uploads = sqliteTable(
  "uploads",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    filename: text("filename").notNull(),
    contentType: text("content_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    /** The source object; null once deleted (after a final failure or cleanup). */
    objectKey: text("object_key"),
    state: text("state", { enum: UPLOAD_STATES }).notNull().default("awaiting_upload"),
    /** Ingest stage and percent while processing, for progress bars. */
    stage: text("stage"),
    percent: integer("percent").notNull().default(0),
    attempts: integer("attempts").notNull().default(0),
    /** A consumer owns the job until this time (ms); a stuck job is re-leasable after. */
    leaseUntil: integer("lease_until"),
    failureCode: text("failure_code"),
    failureReason: text("failure_reason"),
    /** Optional metadata the uploader gave; tags in the file fill the rest. */
    title: text("title"),
    artistId: text("artist_id").references(() => artists.id),
    albumId: text("album_id").references(() => albums.id),
    visibility: text("visibility", { enum: VISIBILITIES }).notNull().default("private"),
    trackId: text("track_id").references(() => tracks.id),
    duplicateOf: text("duplicate_of").references(() => tracks.id),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull().default(nowMs),
    updatedAt: integer("updated_at").notNull().default(nowMs),
  },
  (t) => [
    index("uploads_user_idx").on(t.userId, t.createdAt),
    index("uploads_state_idx").on(t.state, t.updatedAt),
  ],
);

/** An immutable set of transcoded files of a track (tracks/<trackId>/<version>/...). */
export const assetVersions = sqliteTable(
  "asset_versions",
  {
    id: text("id").primaryKey(),
    trackId: text("track_id")
      .notNull()
      .references(() => tracks.id, { onDelete: "cascade" }),
    uploadId: text("upload_id").notNull(),
    durationMs: integer("duration_ms").notNull(),
    integratedLufs: real("integrated_lufs").notNull(),
    loudnessRangeLu: real("loudness_range_lu").notNull(),
    truePeakDbfs: real("true_peak_dbfs").notNull(),
    gainDb: real("gain_db").notNull(),
    fingerprint: text("fingerprint").notNull(),
    /** JSON: the renditions with measured bandwidths, and the files written. */
    renditions: text("renditions", { mode: "json" }).notNull(),
    files: text("files", { mode: "json" }).notNull(),
    waveformSamplesPerPixel: integer("waveform_samples_per_pixel").notNull(),
    /** The content key id (32 hex digits) when the renditions are cbcs-encrypted; null: clear. */
    keyId: text("key_id"),
    createdAt: integer("created_at").notNull().default(nowMs),
  },
  (t) => [
    index("asset_versions_track_idx").on(t.trackId),
    uniqueIndex("asset_versions_upload_idx").on(t.uploadId),
  ],
);

/**
 * Content keys, only ever wrapped: AES-256-GCM under the key-encryption key `kekId` of the
 * `CONTENT_KEKS` ring, with the key id as associated data (a wrapped key moved to another key
 * id does not open). One per encrypted asset version.
 */
export const contentKeys = sqliteTable("content_keys", {
  keyId: text("key_id").primaryKey(),
  assetVersionId: text("asset_version_id")
    .notNull()
    .unique()
    .references(() => assetVersions.id, { onDelete: "cascade" }),
  kekId: text("kek_id").notNull(),
  /** base64url of the 12-byte IV followed by the ciphertext and tag. */
  wrappedKey: text("wrapped_key").notNull(),
  createdAt: integer("created_at").notNull().default(nowMs),
});

/** The licenses the license endpoint handed out: who, which asset, when. Nothing secret. */
export const licenseAudit = sqliteTable(
  "license_audit",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    trackId: text("track_id").notNull(),
    assetVersionId: text("asset_version_id").notNull(),
    keyId: text("key_id").notNull(),
    territory: text("territory").notNull(),
    createdAt: integer("created_at").notNull().default(nowMs),
  },
  (t) => [
    index("license_audit_user_idx").on(t.userId, t.createdAt),
    index("license_audit_asset_idx").on(t.assetVersionId, t.createdAt),
  ],
);

/** Who is paid for a track's use: labels, publishers, the artist. */
export const rightsHolders = sqliteTable("rights_holders", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** The account that manages this holder's reports, when there is one. */
  userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
  createdAt: integer("created_at").notNull().default(nowMs),
});

export const RIGHT_TYPES = ["stream", "download"] as const;
export type RightType = (typeof RIGHT_TYPES)[number];

/** A right to use a track in a territory (ISO 3166-1 alpha-2, or WW for worldwide). */
export const trackRights = sqliteTable(
  "track_rights",
  {
    id: text("id").primaryKey(),
    trackId: text("track_id")
      .notNull()
      .references(() => tracks.id, { onDelete: "cascade" }),
    territory: text("territory").notNull(),
    rightType: text("right_type", { enum: RIGHT_TYPES }).notNull(),
    holderId: text("holder_id")
      .notNull()
      .references(() => rightsHolders.id),
    /** Share of the royalties, 0 to 1. */
    share: real("share").notNull(),
    startsAt: integer("starts_at"),
    expiresAt: integer("expires_at"),
  },
  (t) => [index("track_rights_lookup_idx").on(t.trackId, t.rightType, t.territory)],
);

/**
 * A playback grant: the id a player puts on its events. The territory and plan are fixed
 * here, at grant time, so a listener cannot claim them later.
 */
export const playbacks = sqliteTable(
  "playbacks",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    trackId: text("track_id")
      .notNull()
      .references(() => tracks.id, { onDelete: "cascade" }),
    territory: text("territory").notNull(),
    plan: text("plan").notNull(),
    /** Which of the track's counters takes this playback's events (hot tracks have several). */
    shard: integer("shard").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    index("playbacks_expiry_idx").on(t.expiresAt),
    index("playbacks_track_idx").on(t.trackId, t.shard),
  ],
);

/**
 * Play totals per track, UTC day, territory, plan and rendition, as flushed by each
 * PlayCounter shard. A flush overwrites its shard's row, so flushing twice never double counts;
 * readers sum over shards. No foreign keys: royalties outlive catalog and account changes.
 */
export const royaltyRollups = sqliteTable(
  "royalty_rollups",
  {
    trackId: text("track_id").notNull(),
    day: text("day").notNull(),
    territory: text("territory").notNull(),
    plan: text("plan").notNull(),
    rendition: text("rendition").notNull(),
    /** "" for royalty-bearing streams and time; else why not (`SELF_PLAY`, `REPEAT_CAP`). */
    exclusion: text("exclusion").notNull().default(""),
    shard: integer("shard").notNull(),
    streams: integer("streams").notNull(),
    playedMs: integer("played_ms").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({
      columns: [t.trackId, t.day, t.territory, t.plan, t.rendition, t.exclusion, t.shard],
    }),
    index("royalty_rollups_day_idx").on(t.day, t.trackId),
    index("royalty_rollups_updated_idx").on(t.updatedAt),
  ],
);

/**
 * Counted streams, one row per playback that passed the threshold; `userId` null once erased.
 * The id is a SHA-256 of the playback (so a repeated flush writes it once) that names no one.
 * No foreign key on the user: counters write these later, and a late write must not fail.
 */
export const listeningHistory = sqliteTable(
  "listening_history",
  {
    id: text("id").primaryKey(),
    userId: text("user_id"),
    trackId: text("track_id").notNull(),
    playedAt: integer("played_at").notNull(),
    territory: text("territory").notNull(),
    plan: text("plan").notNull(),
    rendition: text("rendition").notNull(),
  },
  (t) => [index("listening_history_user_idx").on(t.userId, t.playedAt, t.id)],
);

export const PLAYLIST_VISIBILITIES = ["public", "private"] as const;

/**
 * A listener's playlist. Every change bumps `revision` (clients send it back in `If-Match`);
 * `writeToken` marks which change won, so the statements of one change apply only if it did.
 */
export const playlists = sqliteTable(
  "playlists",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    visibility: text("visibility", { enum: PLAYLIST_VISIBILITIES }).notNull().default("private"),
    revision: integer("revision").notNull().default(1),
    writeToken: text("write_token").notNull().default(""),
    itemCount: integer("item_count").notNull().default(0),
    createdAt: integer("created_at").notNull().default(nowMs),
    updatedAt: integer("updated_at").notNull().default(nowMs),
  },
  (t) => [index("playlists_owner_idx").on(t.ownerId, t.createdAt, t.id)],
);

/** A playlist's entries, ordered by `position` (0-based, dense). A track may appear twice. */
export const playlistItems = sqliteTable(
  "playlist_items",
  {
    id: text("id").primaryKey(),
    playlistId: text("playlist_id")
      .notNull()
      .references(() => playlists.id, { onDelete: "cascade" }),
    trackId: text("track_id")
      .notNull()
      .references(() => tracks.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    addedAt: integer("added_at").notNull().default(nowMs),
  },
  (t) => [index("playlist_items_order_idx").on(t.playlistId, t.position)],
);

export const LIKE_KINDS = ["track", "album", "artist", "playlist"] as const;
export type LikeKind = (typeof LIKE_KINDS)[number];

/** What a user liked; `refId` points at a track, album, artist or playlist by `kind`. */
export const likes = sqliteTable(
  "likes",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: LIKE_KINDS }).notNull(),
    refId: text("ref_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.kind, t.refId] }),
    index("likes_user_recent_idx").on(t.userId, t.kind, t.createdAt, t.refId),
  ],
);

/**
 * A user's paid subscription as Stripe reports it. `users.plan` is what playback obeys; this
 * row says why. `graceUntil`: a failed payment keeps the plan until then.
 */
export const subscriptions = sqliteTable("subscriptions", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  plan: text("plan", { enum: PLANS }).notNull(),
  status: text("status").notNull(),
  stripeCustomerId: text("stripe_customer_id"),
  stripeSubscriptionId: text("stripe_subscription_id").unique(),
  currentPeriodEnd: integer("current_period_end"),
  graceUntil: integer("grace_until"),
  /** `created` (Unix seconds) of the newest Stripe event applied; older events change nothing. */
  stripeEventAt: integer("stripe_event_at"),
  updatedAt: integer("updated_at").notNull(),
});

/** Stripe webhook events already applied, so a redelivery changes nothing. */
export const stripeEvents = sqliteTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: integer("received_at").notNull(),
});

/**
 * Item-to-item neighbours from co-listening, computed by a daily cron; requests only read them.
 * `score` is the squared cosine similarity of the two tracks' listener sets.
 */
export const trackNeighbors = sqliteTable(
  "track_neighbors",
  {
    trackId: text("track_id").notNull(),
    neighborId: text("neighbor_id").notNull(),
    score: real("score").notNull(),
    coListeners: integer("co_listeners").notNull(),
    computedAt: integer("computed_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.trackId, t.neighborId] }),
    index("track_neighbors_rank_idx").on(t.trackId, t.score),
  ],
);

/**
 * Scratch space of the neighbour job: who listened to or liked which public track. Filled and
 * emptied by each run, so it holds personal data only while the job runs.
 */
export const recommendationSignal = sqliteTable(
  "recommendation_signal",
  {
    userId: text("user_id").notNull(),
    trackId: text("track_id").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.trackId] }),
    index("recommendation_signal_track_idx").on(t.trackId, t.userId),
  ],
);

/** Scratch space of the neighbour job: listeners per track in this run's signal. */
export const trackListeners = sqliteTable("track_listeners", {
  trackId: text("track_id").primaryKey(),
  listeners: integer("listeners").notNull(),
});

/**
 * R2 prefixes to empty, written in the same batch that forgets what they held (an erased
 * account, a cancelled or failed upload, a failed transcode). A presigned PUT URL can still
 * write there until it expires, so a prefix is emptied again by every cleanup run until
 * `sweepUntil` has passed, and only then forgotten: nothing written late stays untracked.
 */
export const storageDeletions = sqliteTable("storage_deletions", {
  prefix: text("prefix").primaryKey(),
  requestedAt: integer("requested_at").notNull(),
  /** Epoch ms: the last moment a URL we signed could still write under the prefix. */
  sweepUntil: integer("sweep_until").notNull().default(0),
});

/**
 * Never holds a row for longer than one D1 batch: a publish batch first inserts the id of the
 * upload it publishes *as selected by its lease*, so a lost lease (another consumer, a
 * cancelled upload) selects NULL, violates NOT NULL and rolls the whole batch back; its last
 * statement deletes the row again.
 */
export const leaseChecks = sqliteTable("lease_checks", {
  uploadId: text("upload_id").primaryKey().notNull(),
});
