import { and, eq, lt, or, sql } from "drizzle-orm";
import type { StorageSweeps } from "./storage-sweeps";
import {
  albums,
  artists,
  assetVersions,
  contentKeys,
  leaseChecks,
  rightsHolders,
  storageDeletions,
  trackRights,
  tracks,
  uploads,
  users,
} from "@edge-music/core/db/schema";
import { storageKeys } from "@edge-music/core/ingest-contract";
import type { TranscodeResult } from "@edge-music/core/transcode-contract";
import type { Config } from "../../lib/config";
import { newId } from "../../lib/crypto";
import { runBatch, type Db, type Query } from "../../lib/db";
import { log } from "../../lib/log";
import type { GenreService } from "../catalog/genres";
import { WORLDWIDE } from "../plays/rights";
import { artistDoc, indexQueries, trackDoc } from "../search/search-index";
import { newContentKey, wrapContentKey, type WrappedContentKey } from "../playback/content-keys";
import {
  TranscoderClient,
  type TranscodeFailure,
  type TranscodeOutcome,
} from "./transcoder-client";

/** Progress is written to D1 at most this often. */
const PROGRESS_INTERVAL_MS = 1000;

export type IngestOutcome =
  | { kind: "done" }
  | { kind: "ignored" }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "failed" };

type UploadRow = typeof uploads.$inferSelect;

/** Exponential backoff between attempts: 10 s, 20 s, 40 s, ... capped at 10 minutes. */
export const backoffSeconds = (attempt: number) =>
  Math.min(600, 10 * 2 ** Math.max(0, attempt - 1));

/**
 * The ingest job: lease the upload, have the transcoder build a new asset version, then
 * publish it in one D1 batch. Safe under at-least-once delivery and concurrent consumers:
 * the lease is a conditional UPDATE, and one asset per upload is a unique index.
 */
export class IngestService {
  private readonly transcoder: TranscoderClient;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly env: Env,
    private readonly genres: GenreService,
    private readonly sweeps: StorageSweeps,
  ) {
    this.transcoder = new TranscoderClient(config, env);
  }

  /** How long a consumer owns a job (and the job's presigned URLs stay valid). */
  private get leaseMs(): number {
    return this.config.ingest.leaseSeconds * 1000;
  }

  async process(uploadId: string): Promise<IngestOutcome> {
    const now = Date.now();
    const leaseUntil = now + this.leaseMs;
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
    // If this consumer dies mid-job (its runtime killed, a deploy), nobody else knows the
    // prefix its transcode writes to: it is recorded for sweeping from the moment the lease
    // ends, and publishing forgets it.
    await runBatch(this.db, [this.sweeps.record(prefix, leaseUntil, leaseUntil)]);
    // One key per asset version, made here: the transcoder gets it for this job only, and D1
    // gets it only wrapped, at publishing.
    const { protection } = this.config;
    const contentKey = protection.mode === "cbcs" ? newContentKey() : null;
    const wrappedKey = contentKey
      ? await wrapContentKey(contentKey, protection.keks, protection.activeKekId)
      : null;
    let outcome: TranscodeOutcome;
    let lastProgressWrite = 0;
    // Stops the transcoder's job (it kills its ffmpeg processes) when the upload is cancelled
    // or the lease is lost: the progress write finds no row of ours.
    const stop = new AbortController();
    try {
      outcome = await this.transcoder.run(
        upload,
        prefix,
        this.config.ingest.leaseSeconds,
        async (stage, percent) => {
          const now = Date.now();
          if (now - lastProgressWrite < PROGRESS_INTERVAL_MS && percent < 100) return;
          lastProgressWrite = now;
          const ours = await this.db
            .update(uploads)
            .set({ stage, percent: Math.round(percent), updatedAt: now })
            .where(and(eq(uploads.id, upload.id), eq(uploads.leaseUntil, leaseUntil)))
            .returning({ id: uploads.id });
          if (ours.length === 0) stop.abort();
        },
        stop.signal,
        contentKey,
      );
    } catch (error) {
      if (stop.signal.aborted) {
        // Cancelled (or taken over): what the job wrote goes, nothing is failed or published.
        await this.deletePrefix(prefix);
        log("info", "ingest stopped: upload cancelled or lease lost", { uploadId });
        return { kind: "ignored" };
      }
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
    if (outcome.ok && outcome.result.protection?.keyId !== contentKey?.keyId) {
      // A transcoder from before encryption ignores the key: its clear files are not published.
      outcome = {
        ok: false,
        failure: {
          code: "TRANSCODE_FAILED",
          reason: "The transcoder did not encrypt the renditions as this deployment requires.",
          retryable: true,
        },
      };
    }
    if (!outcome.ok) return this.fail(upload, leaseUntil, prefix, outcome.failure);
    try {
      await this.publish(upload, leaseUntil, trackId, assetVersionId, outcome.result, wrappedKey);
      return { kind: "done" };
    } catch (error) {
      // Another consumer published this upload first (unique asset per upload): ours is surplus.
      await this.deletePrefix(prefix);
      log("warn", "publish lost", { uploadId, error: String(error) });
      return { kind: "ignored" };
    }
  }

  /** Retries what may succeed later; otherwise fails for good, leaving no objects behind. */
  private async fail(
    upload: UploadRow,
    leaseUntil: number,
    prefix: string,
    failure: TranscodeFailure,
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
      .select({ objectKey: uploads.objectKey, expiresAt: uploads.expiresAt })
      .from(uploads)
      .where(eq(uploads.id, uploadId))
      .get();
    const now = Date.now();
    // The source goes, and its key is swept until the upload URL expires: the URL can still
    // put a file there, and nothing else would ever delete it.
    const [failed] = await runBatch(this.db, [
      this.db
        .update(uploads)
        .set({
          state: "failed",
          stage: "failed",
          leaseUntil: null,
          failureCode: code,
          failureReason: reason,
          objectKey: null,
          updatedAt: now,
        })
        .where(
          and(
            eq(uploads.id, uploadId),
            or(eq(uploads.state, "queued"), eq(uploads.state, "processing")),
          ),
        )
        .returning({ id: uploads.id }),
      ...(before?.objectKey
        ? [
            this.sweeps.record(
              before.objectKey,
              Math.max(before.expiresAt, now),
              now,
              sql`exists (select 1 from ${uploads} where ${uploads.id} = ${uploadId} and ${uploads.state} = 'failed')`,
            ),
          ]
        : []),
    ]);
    if ((failed as unknown[]).length > 0 && before?.objectKey) {
      await this.env.MEDIA.delete(before.objectKey);
    }
  }

  /** Publishes the asset: track, asset version, search entry and upload state, all or nothing. */
  private async publish(
    upload: UploadRow,
    leaseUntil: number,
    trackId: string,
    assetVersionId: string,
    result: TranscodeResult,
    wrappedKey: WrappedContentKey | null,
  ) {
    const { tags } = result;
    const prefix = storageKeys.assetPrefix(trackId, assetVersionId);
    const owner = await this.db.select().from(users).where(eq(users.id, upload.userId)).get();
    if (!owner) throw new Error("uploader gone");
    // First and last statements of the batch: it applies only while the lease is ours.
    const queries: Query[] = [
      this.db
        .insert(leaseChecks)
        .select(
          sql`SELECT (SELECT ${uploads.id} FROM ${uploads} WHERE ${uploads.id} = ${upload.id} AND ${uploads.leaseUntil} = ${leaseUntil} AND ${uploads.state} = 'processing')`,
        ),
    ];
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
        keyId: wrappedKey?.keyId ?? null,
      }),
      ...(wrappedKey
        ? [this.db.insert(contentKeys).values({ ...wrappedKey, assetVersionId })]
        : []),
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
      ...(await this.defaultRights(owner.id, artist.name, trackId)),
      this.db.delete(storageDeletions).where(eq(storageDeletions.prefix, prefix)),
      this.db.delete(leaseChecks).where(eq(leaseChecks.uploadId, upload.id)),
    );
    await runBatch(this.db, queries);
  }

  /**
   * An uploader's own track starts with worldwide stream and download rights, all to a
   * rights holder for its artist (created on first use); admins can change them.
   */
  private async defaultRights(
    ownerId: string,
    artistName: string,
    trackId: string,
  ): Promise<Query[]> {
    const queries: Query[] = [];
    let holder = await this.db
      .select({ id: rightsHolders.id })
      .from(rightsHolders)
      .where(and(eq(rightsHolders.userId, ownerId), eq(rightsHolders.name, artistName)))
      .get();
    if (!holder) {
      holder = { id: newId("rh") };
      queries.push(
        this.db.insert(rightsHolders).values({ id: holder.id, name: artistName, userId: ownerId }),
      );
    }
    for (const rightType of ["stream", "download"] as const) {
      queries.push(
        this.db.insert(trackRights).values({
          id: newId("rt"),
          trackId,
          territory: WORLDWIDE,
          rightType,
          holderId: holder.id,
          share: 1,
        }),
      );
    }
    return queries;
  }

  /**
   * Empties an asset version that will not be published. The transcoder's output URLs stay
   * valid for the lease, so the prefix is swept again until they have expired.
   */
  private deletePrefix(prefix: string): Promise<void> {
    return this.sweeps.discard(prefix, Date.now() + this.leaseMs);
  }
}
