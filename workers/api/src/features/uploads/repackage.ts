import { and, count, eq, isNull, sql } from "drizzle-orm";
import {
  assetVersions,
  contentKeys,
  leaseChecks,
  storageDeletions,
  tracks,
} from "@edge-music/core/db/schema";
import { storageKeys } from "@edge-music/core/ingest-contract";
import { ASSET_FILES, renditionById } from "@edge-music/core/renditions";
import type { RepackageJobRequest } from "@edge-music/core/transcode-contract";
import { DomainError } from "@edge-music/core/api-errors";
import type { Config } from "../../lib/config";
import { newId } from "../../lib/crypto";
import { runBatch, type Db } from "../../lib/db";
import { log } from "../../lib/log";
import { presign } from "../../lib/presign";
import { newContentKey, wrapContentKey } from "../playback/content-keys";
import { backoffSeconds } from "./ingest";
import type { StorageSweeps } from "./storage-sweeps";
import { REPACKAGED_ORIGIN, type TokenRevocations } from "../accounts/token-revocations";
import { TranscoderClient } from "./transcoder-client";

/** How long the transcoder's URLs of one re-packaging stay valid. */
const REPACKAGE_URL_TTL_SECONDS = 3600;
/** Tries before a track is left clear (and reported): the next run picks it up again. */
const REPACKAGE_MAX_ATTEMPTS = 4;

export type RepackageOutcome =
  { kind: "done" | "ignored" } | { kind: "retry"; delaySeconds: number } | { kind: "failed" };

const clearAssets = and(eq(tracks.status, "ready"), isNull(assetVersions.keyId));

/**
 * Re-packages published tracks whose media is clear as new, encrypted asset versions, without
 * encoding audio again: the transcoder encrypts the existing renditions; the waveform and the
 * cover are copied. The track then points at the new version in one conditional batch (its id,
 * and so its playlists, likes, history and counts, are unchanged), and the old clear files go.
 */
export class RepackageService {
  private readonly transcoder: TranscoderClient;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly env: Env,
    private readonly sweeps: StorageSweeps,
    private readonly revocations: TokenRevocations,
  ) {
    this.transcoder = new TranscoderClient(config, env);
  }

  /** How many published tracks are still clear, and how many are encrypted. */
  async status(): Promise<{ clear: number; encrypted: number }> {
    const rows = await this.db
      .select({ encrypted: sql<number>`${assetVersions.keyId} IS NOT NULL`, n: count() })
      .from(tracks)
      .innerJoin(assetVersions, eq(assetVersions.id, tracks.assetVersionId))
      .where(eq(tracks.status, "ready"))
      .groupBy(sql`1`);
    const of = (encrypted: boolean) => rows.find((r) => Boolean(r.encrypted) === encrypted)?.n ?? 0;
    return { clear: of(false), encrypted: of(true) };
  }

  /** Queues up to `limit` clear tracks for re-packaging; 409 when this deployment is clear. */
  async enqueue(limit: number): Promise<{ queued: number; clear: number; encrypted: number }> {
    if (this.config.protection.mode !== "cbcs") {
      throw new DomainError(
        "PROTECTION_OFF",
        "CONTENT_PROTECTION is off on this deployment: set it to cbcs first.",
      );
    }
    const rows = await this.db
      .select({ trackId: tracks.id, assetVersionId: assetVersions.id })
      .from(tracks)
      .innerJoin(assetVersions, eq(assetVersions.id, tracks.assetVersionId))
      .where(clearAssets)
      .limit(limit);
    // A queue batch holds at most 100 messages.
    for (let i = 0; i < rows.length; i += 100) {
      await this.env.INGEST_QUEUE.sendBatch(
        rows.slice(i, i + 100).map((r) => ({
          body: { version: 1, kind: "repackage", ...r },
        })),
      );
    }
    return { queued: rows.length, ...(await this.status()) };
  }

  /** One track: re-packages `assetVersionId` if it is still the track's and still clear. */
  async process(
    trackId: string,
    assetVersionId: string,
    attempt: number,
  ): Promise<RepackageOutcome> {
    const old = await this.db
      .select({ asset: assetVersions })
      .from(tracks)
      .innerJoin(assetVersions, eq(assetVersions.id, tracks.assetVersionId))
      .where(and(eq(tracks.id, trackId), eq(tracks.assetVersionId, assetVersionId), clearAssets))
      .get();
    // Re-packaged already (a repeated message), re-uploaded, or deleted: nothing to do.
    if (!old) return { kind: "ignored" };
    const oldPrefix = storageKeys.assetPrefix(trackId, assetVersionId);
    const newVersion = newId("av");
    const prefix = storageKeys.assetPrefix(trackId, newVersion);
    const leaseUntil = Date.now() + REPACKAGE_URL_TTL_SECONDS * 1000;
    // Swept unless published (as ingest does): a consumer that dies leaves nothing behind.
    await runBatch(this.db, [this.sweeps.record(prefix, leaseUntil, leaseUntil)]);
    const files = new Set(old.asset.files as string[]);
    const sources: RepackageJobRequest["renditions"] = [];
    for (const r of old.asset.renditions as { id: string }[]) {
      const rendition = renditionById(r.id);
      const name = rendition && ASSET_FILES.media(rendition.id);
      if (!rendition || !name || !files.has(name)) continue;
      const head = await this.env.MEDIA.head(`${oldPrefix}${name}`);
      if (!head) continue;
      sources.push({
        id: rendition.id,
        sizeBytes: head.size,
        url: await presign(this.config.storage, {
          method: "GET",
          key: `${oldPrefix}${name}`,
          expiresSeconds: REPACKAGE_URL_TTL_SECONDS,
        }),
      });
    }
    if (sources.length === 0) {
      log("error", "repackage: no media found", { trackId, assetVersionId });
      return { kind: "failed" };
    }
    const key = newContentKey();
    const wrapped = await wrapContentKey(
      key,
      this.config.protection.keks,
      this.config.protection.activeKekId,
    );
    let outcome;
    try {
      outcome = await this.transcoder.repackage(
        newVersion,
        sources,
        prefix,
        key,
        REPACKAGE_URL_TTL_SECONDS,
      );
    } catch (error) {
      log("warn", "repackage: transcoder call failed", { trackId, error: String(error) });
      outcome = { ok: false as const, failure: { retryable: true, code: "", reason: "" } };
    }
    if (!outcome.ok || outcome.result.protection.keyId !== key.keyId) {
      await this.sweeps.discard(prefix, Date.now() + REPACKAGE_URL_TTL_SECONDS * 1000);
      const retryable = outcome.ok || outcome.failure.retryable;
      if (retryable && attempt < REPACKAGE_MAX_ATTEMPTS) {
        return { kind: "retry", delaySeconds: backoffSeconds(attempt) };
      }
      log("error", "repackage failed", {
        trackId,
        code: outcome.ok ? "KEY_MISMATCH" : outcome.failure.code,
      });
      return { kind: "failed" };
    }
    // The waveform and cover are the same for the new version: copied inside R2.
    const copied: string[] = [];
    for (const name of [ASSET_FILES.waveform, ASSET_FILES.cover]) {
      if (!files.has(name)) continue;
      const object = await this.env.MEDIA.get(`${oldPrefix}${name}`);
      if (!object) continue;
      await this.env.MEDIA.put(`${prefix}${name}`, object.body, {
        httpMetadata: object.httpMetadata ?? {},
      });
      copied.push(name);
    }
    const { id: _id, createdAt: _createdAt, ...kept } = old.asset;
    const guard = `${REPACKAGED_ORIGIN}${assetVersionId}`;
    try {
      await runBatch(this.db, [
        // Applies only while the track still points at the old version (else NULL: aborts).
        this.db
          .insert(leaseChecks)
          .select(
            sql`SELECT (SELECT ${guard} FROM ${tracks} WHERE ${tracks.id} = ${trackId} AND ${tracks.assetVersionId} = ${assetVersionId})`,
          ),
        this.db.insert(assetVersions).values({
          ...kept,
          id: newVersion,
          // One re-packaging per old version: a second publisher's batch fails here.
          uploadId: guard,
          renditions: outcome.result.renditions,
          files: [...outcome.result.files, ...copied],
          keyId: key.keyId,
        }),
        this.db.insert(contentKeys).values({ ...wrapped, assetVersionId: newVersion }),
        this.db
          .update(tracks)
          .set({ assetVersionId: newVersion, updatedAt: Date.now() })
          .where(and(eq(tracks.id, trackId), eq(tracks.assetVersionId, assetVersionId))),
        this.db.delete(assetVersions).where(eq(assetVersions.id, assetVersionId)),
        this.sweeps.record(oldPrefix, Date.now()),
        this.db.delete(storageDeletions).where(eq(storageDeletions.prefix, prefix)),
        this.db.delete(leaseChecks).where(eq(leaseChecks.uploadId, guard)),
      ]);
    } catch (error) {
      // The track moved on meanwhile (a new upload, another consumer): ours is surplus.
      log("warn", "repackage not published", { trackId, error: String(error) });
      await this.sweeps.discard(prefix, Date.now() + REPACKAGE_URL_TTL_SECONDS * 1000);
      return { kind: "ignored" };
    }
    // Tokens for the old version are void from now on (the gate's cache may still hold its
    // clear files); then the old files go (the sweep row finishes the job if this is cut short).
    await this.revocations.settle(trackId);
    await this.sweeps.runFor([oldPrefix]);
    return { kind: "done" };
  }
}
