import { and, eq } from "drizzle-orm";
import {
  assetVersions,
  playbacks,
  tracks,
  users,
  type RightType,
} from "@edge-music/core/db/schema";
import { UNKNOWN_TERRITORY, shardOf, signPlaybackId } from "@edge-music/core/play-events";
import {
  downloadFileName,
  signPlaybackToken,
  verifyPlaybackToken,
} from "@edge-music/core/playback-token";
import { decryptCbcsStream } from "@edge-music/core/cbcs-decrypt";
import { storageKeys } from "@edge-music/core/ingest-contract";
import { CLEARKEY_KEY_SYSTEM } from "@edge-music/core/content-protection";
import { ASSET_FILES, planMaxRank, renditionById, type Plan } from "@edge-music/core/renditions";
import type { Viewer } from "../../app-env";
import type { Config } from "../../lib/config";
import type { Db } from "../../lib/db";
import { newId } from "../../lib/crypto";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { toPublicUser, type PublicUser } from "../accounts/auth";
import { rightUntil, untilOf } from "../plays/rights";
import { trackReadable } from "../catalog/visibility";
import { rowsOf, type PersonalData } from "../privacy/personal-data";
import { openContentKey, storedContentKey } from "./content-keys";

/** A token outlives the track by this much, so pauses and seeks do not cut playback. */
export const PLAYBACK_TOKEN_SLACK_SECONDS = 2 * 3600;

type RenditionInfo = { id: string; bandwidth: number; averageBandwidth: number; codecs: string };

/** Playback grants: who may play what, as a signed token for the stream-gate. */
export class PlaybackService {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly media: R2Bucket,
  ) {}

  /** `territory`: the listener's country (ISO alpha-2), or null when unknown. */
  async grant(
    viewer: Viewer,
    trackId: string,
    format: "hls" | "dash" | "progressive",
    territory: string | null,
    apiOrigin: string,
  ) {
    const { track, asset, rightUntil } = await this.streamable(viewer, trackId, territory);
    const maxRank = planMaxRank(viewer.plan);
    const allowed = (asset.renditions as RenditionInfo[]).filter(
      (r) => (renditionById(r.id)?.rank ?? Infinity) <= maxRank,
    );
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    // The grant ends with the right it rests on, if that ends first.
    const exp = Math.min(
      now + Math.ceil(asset.durationMs / 1000) + PLAYBACK_TOKEN_SLACK_SECONDS,
      Math.floor(rightUntil / 1000),
    );
    const ter = territory ?? UNKNOWN_TERRITORY;
    const token = await signPlaybackToken(
      { sub: viewer.id, trk: track.id, av: asset.id, max: maxRank, exp, iat: now, ter },
      this.config.playback.activeKid,
      this.config.playback.keys,
    );
    // The grant's id goes on every playback event and vouches for who, what, where and on
    // which plan, until it expires; a hot track's listeners spread over several counters
    // (each account always on the same one).
    const { counterShards, hotTrackStreams } = this.config.plays;
    const grant = {
      userId: viewer.id,
      trackId: track.id,
      territory: ter,
      plan: viewer.plan,
      shard: shardOf(viewer.id, track.popularity >= hotTrackStreams ? counterShards : 1),
      createdAt: nowMs,
      expiresAt: exp * 1000,
    };
    const playbackId = await signPlaybackId(
      {
        sub: grant.userId,
        trk: grant.trackId,
        ter: grant.territory,
        pln: grant.plan,
        shd: grant.shard,
        iat: grant.createdAt,
        exp: grant.expiresAt,
        n: newId("n"),
      },
      this.config.playback.activeKid,
      this.config.playback.keys,
    );
    // Kept so reads know which counters hold a track's recent plays.
    await this.db.insert(playbacks).values({ id: playbackId, ...grant });
    const base = `${this.config.playback.gateOrigin}/p/${token}/`;
    // Progressive download: the best AAC the plan allows, one file with byte ranges.
    const progressive = [...allowed].reverse().find((r) => r.id.startsWith("aac_"));
    return {
      playbackId,
      token,
      expiresAt: new Date(exp * 1000).toISOString(),
      format,
      hls: base + ASSET_FILES.master,
      dash: base + ASSET_FILES.mpd,
      progressive: progressive ? base + ASSET_FILES.media(progressive.id) : null,
      renditions: allowed,
      loudness: { integratedLufs: asset.integratedLufs, gainDb: asset.gainDb },
      waveform: base + ASSET_FILES.waveform,
      durationMs: asset.durationMs,
      protection: asset.keyId
        ? {
            scheme: "cbcs" as const,
            keySystem: CLEARKEY_KEY_SYSTEM,
            keyId: asset.keyId,
            licenseUrl: `${apiOrigin}/v1/licenses/clearkey`,
          }
        : null,
    };
  }

  /**
   * The track and its current asset if `viewer` may stream it from `territory` now, with
   * until when (epoch ms; Infinity: no end). Throws what the grant would refuse with.
   */
  async streamable(viewer: Viewer, trackId: string, territory: string | null) {
    const { track, asset, until } = await this.playable(viewer, trackId, "stream", territory);
    // Public catalog tracks need a current stream right where the listener is; personal
    // (private, unlisted) uploads are their owner's to play.
    const rightUntil = track.visibility === "public" ? until : Infinity;
    if (rightUntil === null) {
      throw new DomainError(
        "NOT_AVAILABLE_IN_TERRITORY",
        `This track is not available in ${territory ?? "your territory"}.`,
        { extras: { territory } },
      );
    }
    return { track, asset, rightUntil };
  }

  /**
   * A token for saving one whole rendition offline: premium only, and the track needs a
   * current `download` right where the listener is.
   */
  async download(
    viewer: Viewer,
    trackId: string,
    rendition: "aac_256" | "flac",
    territory: string | null,
    apiOrigin: string,
  ) {
    if (planMaxRank(viewer.plan) < (renditionById(rendition)?.rank ?? Infinity)) {
      throw new DomainError("PLAN_REQUIRED", "Downloads for offline listening come with Premium.");
    }
    const { track, asset, until } = await this.playable(viewer, trackId, "download", territory);
    const rightUntil = track.ownerId === viewer.id ? Infinity : until;
    if (rightUntil === null) {
      throw new DomainError(
        "NOT_AVAILABLE_IN_TERRITORY",
        `This track cannot be downloaded in ${territory ?? "your territory"}.`,
        { extras: { territory } },
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = Math.min(now + 3600, Math.floor(rightUntil / 1000));
    const file = ASSET_FILES.media(rendition);
    const token = await signPlaybackToken(
      {
        sub: viewer.id,
        trk: track.id,
        av: asset.id,
        max: planMaxRank(viewer.plan),
        exp,
        iat: now,
        ter: territory ?? UNKNOWN_TERRITORY,
        dl: rendition,
        fn: track.title,
      },
      this.config.playback.activeKid,
      this.config.playback.keys,
    );
    return {
      token,
      expiresAt: new Date(exp * 1000).toISOString(),
      // Encrypted media is decrypted on the way out by the api, which holds the keys; clear
      // media comes from the gate.
      url: asset.keyId
        ? `${apiOrigin}/v1/downloads/${token}`
        : `${this.config.playback.gateOrigin}/p/${token}/${file}`,
    };
  }

  /**
   * The file a download token opens, as a clear stream: the rendition stored encrypted is
   * decrypted on the way out, so the listener's copy plays anywhere. 404 for anything but a
   * valid, unexpired download token of an encrypted asset version.
   */
  async openDownload(token: string) {
    const verified = await verifyPlaybackToken(token, this.config.playback.keys);
    if (!verified.ok || verified.claims.dl === undefined) throw notFound("The download");
    const { claims } = verified;
    const rendition = renditionById(claims.dl ?? "");
    const stored = await storedContentKey(this.db, claims.av);
    if (!rendition || !stored) throw notFound("The download");
    const key = await openContentKey(stored, this.config.protection.keks);
    const object = await this.media.get(
      `${storageKeys.assetPrefix(claims.trk, claims.av)}${ASSET_FILES.media(rendition.id)}`,
    );
    if (!object) throw notFound("The download");
    return {
      body: decryptCbcsStream(object.body, key),
      sizeBytes: object.size,
      filename: downloadFileName(claims),
    };
  }

  /**
   * The track with its playable asset, and until when a right of `type` covers `territory`
   * (see `rightUntil`; null: none), in one query: 404 if the viewer may not see it, 409 if
   * not ready.
   */
  private async playable(
    viewer: Viewer,
    trackId: string,
    type: RightType,
    territory: string | null,
  ) {
    const row = await this.db
      .select({
        track: tracks,
        asset: assetVersions,
        until: rightUntil(type, territory, Date.now()),
      })
      .from(tracks)
      .leftJoin(assetVersions, eq(assetVersions.id, tracks.assetVersionId))
      .where(and(eq(tracks.id, trackId), trackReadable(viewer)))
      .get();
    if (!row) throw notFound("The track");
    if (row.track.status !== "ready" || !row.asset) {
      throw new DomainError(
        "TRACK_NOT_READY",
        "This track is not playable yet: its audio is still being processed or was never uploaded.",
      );
    }
    return { track: row.track, asset: row.asset, until: untilOf(row.until) };
  }

  /** Admin: sets an account's plan (until billing sets it). */
  async setPlan(userId: string, plan: Plan): Promise<PublicUser> {
    const updated = await this.db
      .update(users)
      .set({ plan, updatedAt: Date.now() })
      .where(eq(users.id, userId))
      .returning();
    const user = updated[0];
    if (!user) throw notFound("The user");
    return toPublicUser(user);
  }
}

export const PLAYBACK_PERSONAL_DATA: PersonalData = {
  export: [{ name: "playbackGrants", sql: rowsOf("playbacks", "user_id") }],
};
