import { and, desc, eq, inArray, sql } from "drizzle-orm";
import {
  albums,
  artists,
  uploads,
  type UploadState,
  type Visibility,
} from "@edge-music/core/db/schema";
import { storageKeys, UPLOAD_CONTENT_TYPES } from "@edge-music/core/ingest-contract";
import type { Viewer } from "../../app-env";
import type { Config } from "../../lib/config";
import { newId } from "../../lib/crypto";
import { runBatch, type Db } from "../../lib/db";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../../lib/pagination";
import { presign } from "../../lib/presign";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { requireArtistManager } from "../catalog/catalog-access";
import type { StorageSweeps } from "./storage-sweeps";
import { OWN_TRACKS, rowsOf, type PersonalData } from "../privacy/personal-data";

export type UploadInput = {
  filename: string;
  contentType: string;
  size: number;
  title?: string | undefined;
  artistId?: string | undefined;
  albumId?: string | undefined;
  visibility?: Visibility | undefined;
};

export type UploadView = {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  state: UploadState;
  /** `attempt`: ingest attempts made so far (a retry shows 2, 3, ...) of `maxAttempts`. */
  progress: { stage: string | null; percent: number; attempt: number; maxAttempts: number };
  failure: { code: string; reason: string } | null;
  trackId: string | null;
  duplicateOf: string | null;
  createdAt: string;
  updatedAt: string;
};

type UploadRow = typeof uploads.$inferSelect;
const IN_FLIGHT: UploadState[] = ["awaiting_upload", "queued", "processing"];

export function toUploadView(u: UploadRow, maxAttempts: number): UploadView {
  return {
    id: u.id,
    filename: u.filename,
    contentType: u.contentType,
    size: u.sizeBytes,
    state: u.state,
    progress: { stage: u.stage, percent: u.percent, attempt: u.attempts, maxAttempts },
    failure: u.failureCode ? { code: u.failureCode, reason: u.failureReason ?? "" } : null,
    trackId: u.trackId,
    duplicateOf: u.duplicateOf,
    createdAt: new Date(u.createdAt).toISOString(),
    updatedAt: new Date(u.updatedAt).toISOString(),
  };
}

/** Presigned uploads straight to R2, and their hand-off to the ingest queue. */
export class UploadService {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly env: Env,
    private readonly sweeps: StorageSweeps,
  ) {}

  async create(viewer: Viewer, input: UploadInput) {
    const limits = this.config.uploads;
    const contentType = input.contentType.toLowerCase();
    if (!(UPLOAD_CONTENT_TYPES as readonly string[]).includes(contentType)) {
      throw new DomainError(
        "UNSUPPORTED_MEDIA_TYPE",
        `${input.contentType} is not an audio type we accept: use MP3, WAV, FLAC, AAC/M4A, Ogg/Opus or AIFF.`,
        {
          extras: {
            accepted: UPLOAD_CONTENT_TYPES,
          },
        },
      );
    }
    if (input.size > limits.maxBytes) {
      throw new DomainError(
        "FILE_TOO_LARGE",
        `Files are limited to ${Math.floor(limits.maxBytes / 1_000_000)} MB; this one is ${Math.ceil(input.size / 1_000_000)} MB.`,
      );
    }
    if (input.artistId !== undefined) {
      const artist = await this.db
        .select()
        .from(artists)
        .where(eq(artists.id, input.artistId))
        .get();
      if (!artist) throw notFound("The artist");
      requireArtistManager(viewer, artist);
    }
    if (input.albumId !== undefined) {
      const album = await this.db.select().from(albums).where(eq(albums.id, input.albumId)).get();
      if (!album) throw notFound("The album");
      if (album.artistId !== input.artistId) {
        throw new DomainError(
          "ALBUM_ARTIST_MISMATCH",
          "The album must belong to the upload's artist.",
        );
      }
    }
    const usage = await this.db
      .select({
        inFlight: sql<number>`sum(case when ${inArray(uploads.state, IN_FLIGHT)} then 1 else 0 end)`,
        bytes: sql<number>`coalesce(sum(${uploads.sizeBytes}), 0)`,
      })
      .from(uploads)
      .where(and(eq(uploads.userId, viewer.id), inArray(uploads.state, [...IN_FLIGHT, "ready"])))
      .get();
    if ((usage?.inFlight ?? 0) >= limits.inFlightMax) {
      throw new DomainError(
        "TOO_MANY_UPLOADS_IN_FLIGHT",
        `You have ${limits.inFlightMax} uploads in progress; wait for one to finish.`,
        { retryAfterSeconds: 30 },
      );
    }
    if ((usage?.bytes ?? 0) + input.size > limits.quotaBytes) {
      throw new DomainError(
        "QUOTA_EXCEEDED",
        `This upload would exceed your storage quota of ${Math.floor(limits.quotaBytes / 1_000_000_000)} GB.`,
      );
    }
    const id = newId("upl");
    const objectKey = storageKeys.uploadSource(viewer.id, id);
    const expiresAt = Date.now() + limits.urlTtlSeconds * 1000;
    const headers = { "content-type": contentType, "content-length": String(input.size) };
    const putUrl = await presign(this.config.storage, {
      method: "PUT",
      key: objectKey,
      headers,
      expiresSeconds: limits.urlTtlSeconds,
    });
    await this.db.insert(uploads).values({
      id,
      userId: viewer.id,
      filename: input.filename,
      contentType,
      sizeBytes: input.size,
      objectKey,
      title: input.title ?? null,
      artistId: input.artistId ?? null,
      albumId: input.albumId ?? null,
      visibility: input.visibility ?? "private",
      expiresAt,
    });
    return {
      uploadId: id,
      putUrl,
      headers: { "Content-Type": contentType, "Content-Length": String(input.size) },
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  /** Checks the object arrived whole, then queues it; calling it again is harmless. */
  async complete(viewer: Viewer, id: string): Promise<UploadView> {
    const upload = await this.own(viewer, id);
    if (upload.state !== "awaiting_upload") return this.view(upload);
    const object = upload.objectKey ? await this.env.MEDIA.head(upload.objectKey) : null;
    if (!object) {
      throw new DomainError(
        "UPLOAD_NOT_RECEIVED",
        "The file has not arrived yet: PUT it to the upload URL first.",
      );
    }
    if (object.size !== upload.sizeBytes) {
      // A different file than declared: remove it so nothing half-right stays behind.
      await this.env.MEDIA.delete(object.key);
      throw new DomainError(
        "SIZE_MISMATCH",
        `The stored file has ${object.size} bytes, not the ${upload.sizeBytes} declared; upload it again.`,
      );
    }
    const queued = await this.db
      .update(uploads)
      .set({ state: "queued", stage: "queued", updatedAt: Date.now() })
      .where(and(eq(uploads.id, id), eq(uploads.state, "awaiting_upload")))
      .returning();
    const row = queued[0];
    if (row) await this.env.INGEST_QUEUE.send({ version: 1, uploadId: id });
    return this.view(row ?? (await this.own(viewer, id)));
  }

  async get(viewer: Viewer, id: string): Promise<UploadView> {
    return this.view(await this.own(viewer, id));
  }

  async list(viewer: Viewer, page: PageQuery): Promise<Page<UploadView>> {
    const { where, orderBy } = keyset(
      uploads.createdAt,
      "desc",
      uploads.id,
      decodeCursor(page.cursor),
    );
    const rows = await this.db
      .select()
      .from(uploads)
      .where(and(eq(uploads.userId, viewer.id), where))
      .orderBy(...orderBy, desc(uploads.id))
      .limit(page.limit + 1);
    return toPage(
      rows,
      page.limit,
      (u) => [u.createdAt, u.id],
      (u) => this.view(u),
    );
  }

  /**
   * Cancels an upload that has not become a track: its object and row go. One being processed
   * stops too: its consumer notices the row is gone at its next progress write (within a
   * second), stops the transcoder's job and removes what it wrote.
   */
  async cancel(viewer: Viewer, id: string): Promise<void> {
    const upload = await this.own(viewer, id);
    if (upload.state === "ready") {
      throw new DomainError(
        "UPLOAD_PUBLISHED",
        "This upload became a track; delete the track instead.",
      );
    }
    // The row goes with a sweep of its key until the upload URL expires, in one batch: the URL
    // can still put a file there after this, and the sweep is what will delete it.
    const now = Date.now();
    const [deleted] = await runBatch(this.db, [
      this.db
        .delete(uploads)
        .where(
          and(
            eq(uploads.id, id),
            inArray(uploads.state, ["awaiting_upload", "queued", "processing", "failed"]),
          ),
        )
        .returning({ id: uploads.id }),
      ...(upload.objectKey
        ? [
            this.sweeps.record(
              upload.objectKey,
              Math.max(upload.expiresAt, now),
              now,
              sql`not exists (select 1 from ${uploads} where ${uploads.id} = ${id})`,
            ),
          ]
        : []),
    ]);
    if ((deleted as unknown[]).length > 0 && upload.objectKey) {
      await this.env.MEDIA.delete(upload.objectKey);
    }
  }

  private view(u: UploadRow): UploadView {
    return toUploadView(u, this.config.ingest.maxAttempts);
  }

  /** The caller's own upload; anyone else's is 404. */
  private async own(viewer: Viewer, id: string): Promise<UploadRow> {
    const row = await this.db
      .select()
      .from(uploads)
      .where(and(eq(uploads.id, id), eq(uploads.userId, viewer.id)))
      .get();
    if (!row) throw notFound("The upload");
    return row;
  }
}

/** Uploads point at tracks: in an erasure they go before the tracks. */
export const UPLOAD_PERSONAL_DATA: PersonalData = {
  export: [{ name: "uploads", sql: rowsOf("uploads", "user_id") }],
  erase: [
    `UPDATE uploads SET duplicate_of = NULL WHERE duplicate_of IN (${OWN_TRACKS})`,
    "DELETE FROM uploads WHERE user_id = ?1",
  ],
};
