import { env } from "cloudflare:test";
import { counterName, shardOf, type PlayEventType } from "@edge-music/core/play-events";
import { callJson, type Account } from "./helpers";

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
  const grantedAt = Date.now() - (options.ageMs ?? 10 * 60_000);
  await env.DB.prepare("UPDATE playbacks SET created_at = ? WHERE id = ?")
    .bind(grantedAt, grant.playbackId)
    .run();
  return { playbackId: grant.playbackId, grantedAt };
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

/** The counter a playback's events go to (the configured shard count). */
export function counterFor(trackId: string, playbackId: string) {
  const shards = Number(env.PLAY_COUNTER_SHARDS);
  return env.PLAY_COUNTER.get(
    env.PLAY_COUNTER.idFromName(counterName(trackId, shardOf(playbackId, shards))),
  );
}

/** Streams and seconds of a track as its stats endpoint reports them (counters flushed). */
export async function statsOf(owner: Account, trackId: string) {
  return callJson<{ totals: { streams: number; seconds: number }; days: unknown[] }>(
    "GET",
    `/v1/tracks/${trackId}/stats`,
    200,
    { token: owner.accessToken },
  );
}
