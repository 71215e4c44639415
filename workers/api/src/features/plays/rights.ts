import { and, asc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from "drizzle-orm";
import {
  artists,
  rightsHolders,
  trackRights,
  tracks,
  type RightType,
} from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import { newId } from "../../lib/crypto";
import { runBatch, type Db } from "../../lib/db";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { requireArtistManager } from "../catalog/catalog-access";
import { trackReadable } from "../catalog/visibility";
import { rowsOf, type PersonalData } from "../privacy/personal-data";

/** Territory code for rights valid everywhere. */
export const WORLDWIDE = "WW";

/** Rights rows of `type` in force at `now`, wherever they apply. */
export function rightActive(type: RightType, now: number): SQL {
  return sql`${trackRights.rightType} = ${type}
    and ${or(isNull(trackRights.startsAt), lte(trackRights.startsAt, now))}
    and ${or(isNull(trackRights.expiresAt), gt(trackRights.expiresAt, now))}`;
}

/** Rights rows of `type` in force at `now` in `territory` (or everywhere). */
export function rightInForce(type: RightType, territory: string | null, now: number): SQL {
  return sql`${rightActive(type, now)}
    and ${inArray(trackRights.territory, territory ? [territory, WORLDWIDE] : [WORLDWIDE])}`;
}

/** What `rightUntil` answers for a right that never expires. */
const OPEN_ENDED = Number.MAX_SAFE_INTEGER;

/**
 * For the track of the row being selected (`tracks.id`): until when (epoch ms) a right of
 * `type` in force at `now` covers `territory` — the latest expiry among them, OPEN_ENDED when
 * one never expires, NULL when none is in force. One definition for the grant and for the
 * plays' playability check.
 */
export function rightUntil(type: RightType, territory: string | null, now: number) {
  return sql<number | null>`(select max(coalesce(${trackRights.expiresAt}, ${OPEN_ENDED}))
    from ${trackRights}
    where ${trackRights.trackId} = ${tracks.id} and ${rightInForce(type, territory, now)})`;
}

/** `rightUntil`'s answer as a number: Infinity when open-ended, null when no right. */
export function untilOf(value: number | null): number | null {
  if (value === null) return null;
  return value >= OPEN_ENDED ? Infinity : value;
}

/** Tracks anyone in `territory` may stream now: public, ready, and under a stream right. */
export function streamableIn(territory: string | null, now: number): SQL {
  return sql`${tracks.visibility} = 'public' and ${tracks.status} = 'ready' and exists (
    select 1 from ${trackRights}
    where ${trackRights.trackId} = ${tracks.id} and ${rightInForce("stream", territory, now)})`;
}

export type RightInput = {
  territory: string;
  type: RightType;
  holderId: string;
  share: number;
  startsAt?: string | undefined;
  expiresAt?: string | undefined;
};

export type RightView = RightInput & { id: string };
type HolderView = { id: string; name: string; userId: string | null };

/** Rights holders and per-track, per-territory rights; the playback grant consults them. */
export class RightsService {
  constructor(private readonly db: Db) {}

  async createHolder(input: { name: string; userId?: string | undefined }): Promise<HolderView> {
    const holder = { id: newId("rh"), name: input.name, userId: input.userId ?? null };
    await this.db.insert(rightsHolders).values(holder);
    return holder;
  }

  async listHolders(page: PageQuery): Promise<Page<HolderView>> {
    const { where, orderBy } = keyset(
      rightsHolders.id,
      "asc",
      rightsHolders.id,
      decodeCursor(page.cursor),
    );
    const rows = await this.db
      .select({ id: rightsHolders.id, name: rightsHolders.name, userId: rightsHolders.userId })
      .from(rightsHolders)
      .where(where)
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    return toPage(
      rows,
      page.limit,
      (h) => [h.id, h.id],
      (h) => h,
    );
  }

  async getTrackRights(viewer: Viewer, trackId: string): Promise<RightView[]> {
    await this.managedTrack(viewer, trackId);
    const rows = await this.db
      .select()
      .from(trackRights)
      .where(eq(trackRights.trackId, trackId))
      .orderBy(asc(trackRights.id));
    return rows.map((r) => ({
      id: r.id,
      territory: r.territory,
      type: r.rightType,
      holderId: r.holderId,
      share: r.share,
      ...(r.startsAt ? { startsAt: new Date(r.startsAt).toISOString() } : {}),
      ...(r.expiresAt ? { expiresAt: new Date(r.expiresAt).toISOString() } : {}),
    }));
  }

  /** Replaces a track's rights; shares of one territory and type may not exceed 100 %. */
  async setTrackRights(
    viewer: Viewer,
    trackId: string,
    rights: RightInput[],
  ): Promise<RightView[]> {
    await this.managedTrack(viewer, trackId);
    const totals = new Map<string, number>();
    for (const r of rights) {
      const key = `${r.territory}/${r.type}`;
      totals.set(key, (totals.get(key) ?? 0) + r.share);
      if (r.startsAt && r.expiresAt && Date.parse(r.expiresAt) <= Date.parse(r.startsAt)) {
        throw new DomainError(
          "INVALID_RIGHT_PERIOD",
          `A ${r.type} right for ${r.territory} expires before it starts.`,
        );
      }
    }
    for (const [key, total] of totals) {
      if (total > 1.000001)
        throw new DomainError(
          "SHARES_EXCEED_100",
          `Shares for ${key} add up to ${Math.round(total * 100)} %.`,
        );
    }
    const holderIds = [...new Set(rights.map((r) => r.holderId))];
    if (holderIds.length) {
      const found = await this.db
        .select({ id: rightsHolders.id })
        .from(rightsHolders)
        .where(inArray(rightsHolders.id, holderIds));
      const missing = holderIds.filter((id) => !found.some((f) => f.id === id));
      if (missing.length)
        throw new DomainError("UNKNOWN_RIGHTS_HOLDER", `No rights holder ${missing.join(", ")}.`);
    }
    await runBatch(this.db, [
      this.db.delete(trackRights).where(eq(trackRights.trackId, trackId)),
      ...rights.map((r) =>
        this.db.insert(trackRights).values({
          id: newId("rt"),
          trackId,
          territory: r.territory,
          rightType: r.type,
          holderId: r.holderId,
          share: r.share,
          startsAt: r.startsAt ? Date.parse(r.startsAt) : null,
          expiresAt: r.expiresAt ? Date.parse(r.expiresAt) : null,
        }),
      ),
    ]);
    return this.getTrackRights(viewer, trackId);
  }

  /** Admins, and the account managing the track's artist; others get 404 or 403. */
  private async managedTrack(viewer: Viewer, trackId: string) {
    const row = await this.db
      .select({ track: tracks, ownerId: artists.ownerId })
      .from(tracks)
      .innerJoin(artists, eq(artists.id, tracks.artistId))
      .where(and(eq(tracks.id, trackId), trackReadable(viewer)))
      .get();
    if (!row) throw notFound("The track");
    if (row.track.ownerId !== viewer.id) requireArtistManager(viewer, { ownerId: row.ownerId });
    return row.track;
  }
}

export const RIGHTS_PERSONAL_DATA: PersonalData = {
  export: [{ name: "rightsHolders", sql: rowsOf("rights_holders", "user_id") }],
};
