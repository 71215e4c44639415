import { env } from "cloudflare:test";
import {
  counterName,
  signPlaybackId,
  verifyPlaybackId,
  type PlayEventType,
} from "@edge-music/core/play-events";
import { callJson, type Account } from "./helpers";
import { parseKeyRing } from "@edge-music/core/key-ring";

export type Outcome = {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: { index: number; eventId: string | null; status: string; code?: string }[];
};

/**
 * A playback grant for `listener`, backdated by `ageMs` so that events covering that much
 * playing time are plausible to the counter's wall-clock checks.
 */
export async function grantPlayback(
  listener: Account,
  trackId: string,
  options: { country?: string; ageMs?: number } = {},
): Promise<{ playbackId: string; grantedAt: number }> {
  const grant = await callJson<{ playbackId: string }>(
    "POST",
    `/v1/tracks/${trackId}/playback`,
    200,
    {
      token: listener.accessToken,
      body: {},
      headers: options.country ? { "X-Dev-Country": options.country } : {},
    },
  );
  // Backdate the grant: re-sign its id with an earlier grant time, as if granted back then.
  const keys = parseKeyRing(env.PLAYBACK_KEYS, "PLAYBACK_KEYS");
  const claims = await verifyPlaybackId(grant.playbackId, keys);
  if (!claims) throw new Error("the grant's playbackId does not verify");
  const grantedAt = Date.now() - (options.ageMs ?? 10 * 60_000);
  const playbackId = await signPlaybackId({ ...claims, iat: grantedAt }, "p1", keys);
  await env.DB.prepare("UPDATE playbacks SET id = ?, created_at = ? WHERE id = ?")
    .bind(playbackId, grantedAt, grant.playbackId)
    .run();
  return { playbackId, grantedAt };
}

/** Builds the events a player would send: each one `playedMs` (or `gapMs`) after the last. */
export class Player {
  #at: number;
  #position = 0;

  constructor(
    readonly playbackId: string,
    readonly trackId: string,
    startAt: number,
    readonly rendition = "aac_128",
  ) {
    this.#at = startAt;
  }

  event(
    type: PlayEventType,
    playedMs: number,
    options: { positionMs?: number; gapMs?: number } = {},
  ) {
    this.#at += options.gapMs ?? playedMs;
    this.#position = options.positionMs ?? this.#position + playedMs;
    return {
      eventId: crypto.randomUUID(),
      playbackId: this.playbackId,
      trackId: this.trackId,
      type,
      positionMs: this.#position,
      playedMs,
      rendition: this.rendition,
      occurredAt: new Date(this.#at).toISOString(),
    };
  }
}

export function sendEvents(listener: Account, events: unknown[]): Promise<Outcome> {
  return callJson<Outcome>("POST", "/v1/playback-events", 200, {
    token: listener.accessToken,
    body: { events },
  });
}

/** The counter a playback's events go to (the shard its grant names). */
export async function counterFor(trackId: string, playbackId: string) {
  const grant = await env.DB.prepare("SELECT shard FROM playbacks WHERE id = ?")
    .bind(playbackId)
    .first<{ shard: number }>();
  return env.PLAY_COUNTER.get(env.PLAY_COUNTER.idFromName(counterName(trackId, grant?.shard ?? 0)));
}

/** `totals.excluded` of a track's stats when no stream was excluded from royalties. */
export const NONE_EXCLUDED = { SELF_PLAY: 0, REPEAT_CAP: 0 };

/** Streams and seconds of a track as its stats endpoint reports them (counters flushed). */
export async function statsOf(owner: Account, trackId: string) {
  return callJson<{
    totals: { streams: number; seconds: number; excluded: typeof NONE_EXCLUDED };
    days: unknown[];
  }>("GET", `/v1/tracks/${trackId}/stats`, 200, { token: owner.accessToken });
}
