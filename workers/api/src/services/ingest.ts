import { and, eq, lt, or, sql } from "drizzle-orm";
import { albums, artists, assetVersions, tracks, uploads, users } from "@edge-music/core/db/schema";
import { storageKeys } from "@edge-music/core/ingest-contract";
import { ASSET_FILES, RENDITIONS } from "@edge-music/core/renditions";
import {
  TranscodeEventSchema,
  type TranscodeJobRequest,
  type TranscodeResult,
} from "@edge-music/core/transcode-contract";
import type { Config } from "../lib/config";
import { newId } from "../lib/crypto";
import { runBatch, type Db, type Query } from "../lib/db";
import { log } from "../lib/log";
import { presign } from "../lib/presign";
import type { GenreService } from "./genres";
import { artistDoc, indexQueries, trackDoc } from "./search-index";

/** How long a consumer owns a job before another may take it over. */
export const INGEST_LEASE_MS = 20 * 60 * 1000;
/** Presigned URLs handed to the transcoder live as long as the lease. */
const JOB_URL_TTL_SECONDS = INGEST_LEASE_MS / 1000;
/** Container instances jobs are spread over (max_instances in wrangler.toml). */
const TRANSCODER_INSTANCES = 4;
/** Progress is written to D1 at most this often. */
const PROGRESS_INTERVAL_MS = 1000;

export type IngestOutcome =
  | { kind: "done" }
  | { kind: "ignored" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "failed" };

type UploadRow = typeof uploads.$inferSelect;
type Failure = { code: string; reason: string; retryable: boolean };

const OUTPUT_CONTENT_TYPES: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  mpd: "application/dash+xml",
  mp4: "audio/mp4",
  json: "application/json",
  jpg: "image/jpeg",
};

/** Every file a transcode may write, relative to the asset version's folder. */
export const OUTPUT_NAMES = [
  ASSET_FILES.master,
  ASSET_FILES.mpd,
  ASSET_FILES.waveform,
  ASSET_FILES.cover,
  ...RENDITIONS.flatMap((r) => [ASSET_FILES.media(r.id), ASSET_FILES.mediaPlaylist(r.id)]),
];

/** Exponential backoff between attempts: 10 s, 20 s, 40 s, ... capped at 10 minutes. */
export const backoffSeconds = (attempt: number) =>
  Math.min(600, 10 * 2 ** Math.max(0, attempt - 1));

/**
 * The ingest job: lease the upload, have the transcoder build a new asset version, then
 * publish it in one D1 batch. Safe under at-least-once delivery and concurrent consumers:
 * the lease is a conditional UPDATE, and one asset per upload is a unique index.
 */
export class IngestService {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly env: Env,
    private readonly genres: GenreService,
  ) {}

  async process(uploadId: string): Promise<IngestOutcome> {
    const now = Date.now();
    const leaseUntil = now + INGEST_LEASE_MS;
    const leased = await this.db
      .update(uploads)
      .set({
        state: "processing",
        leaseUntil,
        attempts: sql`${uploads.attempts} + 1`,
        stage: "starting",
        percent: 0,
        failureCode: null,
        failureReason: null,
        updatedAt: now,
      })
      .where(
        and(
          eq(uploads.id, uploadId),
          or(
            eq(uploads.state, "queued"),
            and(eq(uploads.state, "processing"), lt(uploads.leaseUntil, now)),
          ),
        ),
      )
      .returning();
    const upload = leased[0];
    if (!upload?.objectKey) return { kind: "ignored" };

    const trackId = upload.trackId ?? newId("trk");
    const assetVersionId = newId("av");
    const prefix = storageKeys.assetPrefix(trackId, assetVersionId);
    let outcome: { ok: true; result: TranscodeResult } | { ok: false; failure: Failure };
    try {
      outcome = await this.transcode(upload, leaseUntil, prefix);
    } catch (error) {
      outcome = {
        ok: false,
        failure: {
          code: "TRANSCODER_UNAVAILABLE",
          reason: "The transcoder could not be reached.",
          retryable: true,
        },
      };
      log("warn", "transcoder call failed", { uploadId, error: String(error) });
    }
    if (!outcome.ok) return this.fail(upload, leaseUntil, prefix, outcome.failure);
    try {
      await this.publish(upload, leaseUntil, trackId, assetVersionId, outcome.result);
      return { kind: "done" };
    } catch (error) {
      // Another consumer published this upload first (unique asset per upload): ours is surplus.
      await this.deletePrefix(prefix);
      log("warn", "publish lost", { uploadId, error: String(error) });
      return { kind: "ignored" };
    }
  }

  /** Calls the transcoder and follows its NDJSON progress until the result line. */
  private async transcode(upload: UploadRow, leaseUntil: number, prefix: string) {
    const storage = this.config.storage;
    const outputs: Record<string, string> = {};
    for (const name of OUTPUT_NAMES) {
      const contentType =
        OUTPUT_CONTENT_TYPES[name.split(".").pop() ?? ""] ?? "application/octet-stream";
      outputs[name] = await presign(storage, {
        method: "PUT",
        key: `${prefix}${name}`,
        headers: { "content-type": contentType },
        expiresSeconds: JOB_URL_TTL_SECONDS,
      });
    }
    const job: TranscodeJobRequest = {
      version: 1,
      jobId: upload.id,
      source: {
        url: await presign(storage, {
          method: "GET",
          key: upload.objectKey ?? "",
          expiresSeconds: JOB_URL_TTL_SECONDS,
        }),
        sizeBytes: upload.sizeBytes,
      },
      outputs,
      limits: { maxDurationSeconds: this.config.ingest.maxDurationSeconds },
    };
    const res = await this.callTranscoder(
      new Request(`${this.transcoderBase()}/jobs`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.config.ingest.transcoderSecret}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify(job),
      }),
      upload.id,
    );
    if (!res.ok || !res.body) {
      return {
        ok: false as const,
        failure: {
          code: "TRANSCODER_UNAVAILABLE",
          reason: `The transcoder answered ${res.status}.`,
          retryable: true,
        },
      };
    }
    let lastWrite = 0;
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const event = TranscodeEventSchema.parse(JSON.parse(line));
        if (event.type === "done") return { ok: true as const, result: event.result };
        if (event.type === "failed") {
          return {
            ok: false as const,
            failure: { code: event.code, reason: event.reason, retryable: event.retryable },
          };
        }
        if (Date.now() - lastWrite >= PROGRESS_INTERVAL_MS || event.percent === 100) {
          lastWrite = Date.now();
          await this.db
            .update(uploads)
            .set({ stage: event.stage, percent: Math.round(event.percent), updatedAt: lastWrite })
            .where(and(eq(uploads.id, upload.id), eq(uploads.leaseUntil, leaseUntil)));
        }
      }
    }
    return {
      ok: false as const,
      failure: {
        code: "TRANSCODER_UNAVAILABLE",
        reason: "The transcoder stopped before answering.",
        retryable: true,
      },
    };
  }

  private transcoderBase(): string {
    const url = this.config.ingest.transcoderUrl;
    return url === "container" ? "http://transcoder" : url.replace(/\/+$/, "");
  }

  /**
   * Production: one of a few container instances, chosen by the upload id so a retried job
   * returns to the same one. Locally and in tests: the transcoder's URL.
   */
  private callTranscoder(request: Request, uploadId: string): Promise<Response> {
    if (this.config.ingest.transcoderUrl !== "container") return fetch(request);
    if (!this.env.TRANSCODER)
      throw new Error('TRANSCODER_URL is "container" but no TRANSCODER binding exists');
    const shard =
      [...uploadId].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % TRANSCODER_INSTANCES;
    return this.env.TRANSCODER.getByName(`transcoder-${shard}`).fetch(request);
  }

  /** Retries what may succeed later; otherwise fails for good, leaving no objects behind. */
  private async fail(
    upload: UploadRow,
    leaseUntil: number,
    prefix: string,
    failure: Failure,
  ): Promise<IngestOutcome> {
    await this.deletePrefix(prefix);
    const retry = failure.retryable && upload.attempts < this.config.ingest.maxAttempts;
    const ours = and(eq(uploads.id, upload.id), eq(uploads.leaseUntil, leaseUntil));
    if (retry) {
      await this.db
        .update(uploads)
        .set({
          state: "queued",
          stage: "retrying",
          leaseUntil: null,
          failureCode: failure.code,
          failureReason: failure.reason,
          updatedAt: Date.now(),
        })
        .where(ours);
      return { kind: "retry", delaySeconds: backoffSeconds(upload.attempts) };
    }
    await this.failForGood(upload.id, failure.code, failure.reason);
    return { kind: "failed" };
  }

  /** Marks an upload failed with a reason, and deletes its source so nothing is orphaned. */
  async failForGood(uploadId: string, code: string, reason: string): Promise<void> {
    const before = await this.db
      .select({ objectKey: uploads.objectKey })
      .from(uploads)
      .where(eq(uploads.id, uploadId))
      .get();
    const failed = await this.db
      .update(uploads)
      .set({
        state: "failed",
        stage: "failed",
        leaseUntil: null,
        failureCode: code,
        failureReason: reason,
        objectKey: null,
        updatedAt: Date.now(),
      })
      .where(
        and(
          eq(uploads.id, uploadId),
          or(eq(uploads.state, "queued"), eq(uploads.state, "processing")),
        ),
      )
      .returning({ id: uploads.id });
    if (failed.length > 0 && before?.objectKey) await this.env.MEDIA.delete(before.objectKey);
  }

  /** Publishes the asset: track, asset version, search entry and upload state, all or nothing. */
  private async publish(
    upload: UploadRow,
    leaseUntil: number,
    trackId: string,
    assetVersionId: string,
    result: TranscodeResult,
  ) {
    const { tags } = result;
    const owner = await this.db.select().from(users).where(eq(users.id, upload.userId)).get();
    if (!owner) throw new Error("uploader gone");
    const queries: Query[] = [];
    // The artist: the one named on the upload, else the uploader's artist of the tag's name.
    let artist = upload.artistId
      ? await this.db.select().from(artists).where(eq(artists.id, upload.artistId)).get()
      : undefined;
    if (!artist) {
      const name = tags.artist ?? owner.displayName;
      artist = await this.db
        .select()
        .from(artists)
        .where(and(eq(artists.ownerId, owner.id), eq(artists.name, name)))
        .get();
      if (!artist) {
        const now = Date.now();
        artist = {
          id: newId("art"),
          name,
          bio: "",
          ownerId: owner.id,
          popularity: 0,
          createdAt: now,
          updatedAt: now,
        };
        queries.push(
          this.db.insert(artists).values(artist),
          ...indexQueries(this.db, artistDoc(artist)),
        );
      }
    }
    const duplicate = await this.db
      .select({ id: tracks.id })
      .from(tracks)
      .where(and(eq(tracks.ownerId, owner.id), eq(tracks.fingerprint, result.fingerprint)))
      .get();
    const isrcFree =
      tags.isrc &&
      /^[A-Z]{2}[A-Z0-9]{3}\d{7}$/.test(tags.isrc) &&
      !(await this.db
        .select({ id: tracks.id })
        .from(tracks)
        .where(eq(tracks.isrc, tags.isrc))
        .get());
    const albumTitle = upload.albumId
      ? ((
          await this.db
            .select({ title: albums.title })
            .from(albums)
            .where(eq(albums.id, upload.albumId))
            .get()
        )?.title ?? null)
      : null;
    const genre = tags.genre ? this.genres.upsert(tags.genre) : null;
    if (genre) queries.push(genre.query);
    const now = Date.now();
    const track = {
      id: trackId,
      title: upload.title ?? tags.title ?? upload.filename.replace(/\.[^.]+$/, ""),
      artistId: artist.id,
      albumId: upload.albumId,
      trackNumber: tags.trackNumber ?? null,
      durationMs: Math.round(result.durationSeconds * 1000),
      genreId: genre?.id ?? null,
      isrc: isrcFree ? (tags.isrc ?? null) : null,
      releaseDate: tags.year ? String(tags.year) : null,
      explicit: false,
      visibility: upload.visibility,
      ownerId: owner.id,
      status: "ready" as const,
      assetVersionId,
      fingerprint: result.fingerprint,
      popularity: 0,
      createdAt: now,
      updatedAt: now,
    };
    queries.push(
      this.db.insert(tracks).values(track),
      // Unique per upload: a second publisher's whole batch fails here and rolls back.
      this.db.insert(assetVersions).values({
        id: assetVersionId,
        trackId,
        uploadId: upload.id,
        durationMs: track.durationMs,
        integratedLufs: result.loudness.integratedLufs,
        loudnessRangeLu: result.loudness.lraLu,
        truePeakDbfs: result.loudness.truePeakDbfs,
        gainDb: result.loudness.gainDb,
        fingerprint: result.fingerprint,
        renditions: result.renditions,
        files: result.files,
        waveformSamplesPerPixel: result.waveform.samplesPerPixel,
      }),
      this.db
        .update(uploads)
        .set({
          state: "ready",
          stage: "ready",
          percent: 100,
          leaseUntil: null,
          trackId,
          duplicateOf: duplicate?.id ?? null,
          failureCode: null,
          failureReason: null,
          updatedAt: now,
        })
        .where(and(eq(uploads.id, upload.id), eq(uploads.leaseUntil, leaseUntil))),
      ...indexQueries(this.db, trackDoc(track, artist.name, albumTitle)),
    );
    await runBatch(this.db, queries);
  }

  /** Deletes every object under a prefix (an asset version that will not be published). */
  async deletePrefix(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.env.MEDIA.list({ prefix, ...(cursor ? { cursor } : {}) });
      if (page.objects.length) await this.env.MEDIA.delete(page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
}
