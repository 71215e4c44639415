import { and, eq } from "drizzle-orm";
import { assetVersions, trackRights, tracks } from "@edge-music/core/db/schema";
import { tokenRevocationKey, type TokenRevocation } from "@edge-music/core/token-revocation";
import type { Db } from "../../lib/db";
import { log } from "../../lib/log";
import { DomainError } from "@edge-music/core/api-errors";
import { rightActive, WORLDWIDE } from "../plays/rights";
import { forgetStreamAccess } from "../playback/stream-access";

const WRITE_ATTEMPTS = 3;

/** How a re-packaged asset version names its origin (`repack:<the version it replaced>`). */
export const REPACKAGED_ORIGIN = "repack:";

/**
 * Tells the stream-gate which playback tokens of a track stopped being good: after a change
 * of who may play it (visibility, rights), the record names who still may, as the grant
 * would decide now. The gate never reads D1; this R2 object is how it learns.
 */
export class TokenRevocations {
  constructor(
    private readonly db: Db,
    private readonly media: R2Bucket,
  ) {}

  /**
   * Writes the track's record as of now (deleting it when everyone who could get a token may
   * still play). Call after the change has committed. A store that keeps failing is 503: the
   * change stands, and the gate would honour older tokens until they expire.
   */
  async settle(trackId: string, now = Date.now()): Promise<void> {
    // This isolate stops counting the track's events for those who lost it at once.
    forgetStreamAccess(trackId);
    const record = await this.recordFor(trackId, now);
    const key = tokenRevocationKey(trackId);
    for (let attempt = 1; ; attempt++) {
      try {
        if (record) await this.media.put(key, JSON.stringify(record));
        else await this.media.delete(key);
        return;
      } catch (error) {
        log("error", "token revocation not stored", { trackId, attempt, error: String(error) });
        if (attempt >= WRITE_ATTEMPTS) {
          throw new DomainError(
            "REVOCATION_NOT_STORED",
            "The change is saved, but listeners already playing could not be stopped yet; try the change again.",
          );
        }
      }
    }
  }

  /**
   * The track's record: who may still play it (mirroring the playback grant), and, once its
   * media was re-packaged, the only asset version tokens may name; null when nothing is void.
   */
  private async recordFor(trackId: string, now: number): Promise<TokenRevocation | null> {
    const track = await this.db
      .select({
        visibility: tracks.visibility,
        ownerId: tracks.ownerId,
        assetVersionId: tracks.assetVersionId,
        origin: assetVersions.uploadId,
      })
      .from(tracks)
      .leftJoin(assetVersions, eq(assetVersions.id, tracks.assetVersionId))
      .where(eq(tracks.id, trackId))
      .get();
    if (!track) return { version: 1, before: now, subjects: [], territories: [] };
    const who = await this.whoMayPlay(trackId, track, now);
    const pinned = track.origin?.startsWith(REPACKAGED_ORIGIN) && track.assetVersionId;
    if (!pinned) return who;
    return {
      ...(who ?? { version: 1, before: now, subjects: [], territories: "*" }),
      asset: pinned,
    };
  }

  private async whoMayPlay(
    trackId: string,
    track: { visibility: string; ownerId: string },
    now: number,
  ): Promise<TokenRevocation | null> {
    const base = { version: 1 as const, before: now };
    // Unlisted tracks play for anyone with the link, without rights (as the grant decides).
    if (track.visibility === "unlisted") return null;
    if (track.visibility === "private") {
      return { ...base, subjects: [track.ownerId], territories: [] };
    }
    const rights = await this.db
      .selectDistinct({ territory: trackRights.territory })
      .from(trackRights)
      .where(and(eq(trackRights.trackId, trackId), rightActive("stream", now)));
    const territories = rights.map((r) => r.territory);
    if (territories.includes(WORLDWIDE)) return null;
    return { ...base, subjects: [], territories: territories.sort() };
  }
}
