import { z } from "zod";
import type { KeyRing } from "./key-ring";
import { signTagged, verifyTagged } from "./playback-token";
import { RENDITIONS } from "./renditions";

/** A playback counts as one stream once this much audio has actually played. */
export const STREAM_THRESHOLD_MS = 30_000;
/** Events per `POST /v1/playback-events`. */
export const PLAY_EVENTS_MAX_PER_BATCH = 100;
/** Older events are refused; the counters' dedup window outlasts this, so a resend is never counted twice. */
export const PLAY_EVENT_MAX_AGE_MS = 24 * 3600 * 1000;
/** Clocks drift: an event may claim to be this far ahead of the server. */
export const PLAY_EVENT_MAX_FUTURE_MS = 60_000;
/** How long a counter remembers event ids and playbacks (longer than the max event age). */
export const PLAY_DEDUP_WINDOW_MS = 2 * PLAY_EVENT_MAX_AGE_MS;
/** Timer jitter allowed between `playedMs` and the wall time it claims to cover. */
export const PLAYED_TOLERANCE_MS = 1_000;
/** Territory recorded when the listener's country is unknown (ISO 3166 user-assigned). */
export const UNKNOWN_TERRITORY = "ZZ";

export const PLAY_EVENT_TYPES = [
  "start",
  "progress",
  "pause",
  "resume",
  "seek",
  "skip",
  "end",
] as const;
export type PlayEventType = (typeof PLAY_EVENT_TYPES)[number];

/**
 * What a playback id vouches for. The api signs it when it grants playback, so checking an
 * event's grant costs an HMAC, not a database read: user, track, the territory and plan at
 * grant time, the counter shard, and when it was granted (ms).
 */
export const PlaybackIdClaimsSchema = z.object({
  sub: z.string().min(1),
  trk: z.string().min(1),
  ter: z.string().length(2),
  pln: z.string().min(1),
  shd: z.number().int().min(0),
  iat: z.number().int(),
  /** Random: two grants in the same millisecond still differ. */
  n: z.string().min(8),
});
export type PlaybackIdClaims = z.infer<typeof PlaybackIdClaimsSchema>;

const PLAYBACK_ID_TAG = "pb1";
export const PLAYBACK_ID_MAX_LENGTH = 512;

export function signPlaybackId(
  claims: PlaybackIdClaims,
  kid: string,
  keys: KeyRing,
): Promise<string> {
  return signTagged(PLAYBACK_ID_TAG, PlaybackIdClaimsSchema.parse(claims), kid, keys);
}

/** The grant a playback id stands for, or null if it is not one we signed. */
export async function verifyPlaybackId(
  playbackId: string,
  keys: KeyRing,
): Promise<PlaybackIdClaims | null> {
  const checked = await verifyTagged(PLAYBACK_ID_TAG, playbackId, keys, PlaybackIdClaimsSchema);
  return checked.ok ? checked.payload : null;
}

const renditionIds = RENDITIONS.map((r) => r.id) as [string, ...string[]];

/** One event as a player sends it. */
export const PlayEventSchema = z.object({
  eventId: z.uuid(),
  playbackId: z.string().min(1).max(PLAYBACK_ID_MAX_LENGTH),
  trackId: z.string().min(1).max(64),
  type: z.enum(PLAY_EVENT_TYPES),
  positionMs: z.number().int().min(0).max(86_400_000),
  /** Audio actually played since the previous event of this playback (seeks excluded). */
  playedMs: z.number().int().min(0).max(86_400_000),
  rendition: z.enum(renditionIds),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type PlayEvent = z.infer<typeof PlayEventSchema>;

/** Why an event was refused; the rest of its batch is still taken. */
export const PLAY_EVENT_REFUSALS = [
  "INVALID_EVENT",
  "NO_GRANT",
  "RENDITION_NOT_ALLOWED",
  "TOO_OLD",
  "IN_FUTURE",
  "OUT_OF_ORDER",
  "PLAYED_EXCEEDS_WALL_TIME",
] as const;
export type PlayEventRefusal = (typeof PLAY_EVENT_REFUSALS)[number];

export type PlayEventResult =
  | { index: number; eventId: string | null; status: "accepted" | "duplicate" }
  | {
      index: number;
      eventId: string | null;
      status: "rejected";
      code: PlayEventRefusal;
      reason: string;
    };

/** What the api hands a PlayCounter: checked events, each with its grant's facts. Versioned. */
export const CounterBatchSchema = z.object({
  version: z.literal(1),
  trackId: z.string().min(1),
  shard: z.number().int().min(0),
  events: z
    .array(
      z.object({
        index: z.number().int().min(0),
        eventId: z.uuid(),
        playbackId: z.string().min(1).max(PLAYBACK_ID_MAX_LENGTH),
        type: z.enum(PLAY_EVENT_TYPES),
        playedMs: z.number().int().min(0),
        rendition: z.string().min(1),
        occurredAt: z.number().int(),
        userId: z.string().min(1),
        territory: z.string().length(2),
        plan: z.string().min(1),
        grantedAt: z.number().int(),
      }),
    )
    .max(PLAY_EVENTS_MAX_PER_BATCH),
});
export type CounterBatch = z.infer<typeof CounterBatchSchema>;

/** What a counter is asked to forget when an account is erased. */
export const CounterForgetSchema = z.object({
  version: z.literal(1),
  userId: z.string().min(1),
  playbackIds: z.array(z.string().min(1).max(PLAYBACK_ID_MAX_LENGTH)).max(10_000),
});
export type CounterForget = z.infer<typeof CounterForgetSchema>;
export type CounterEvent = CounterBatch["events"][number];

/** Which of a track's counters a playback's events go to: every event of one playback, the same one. */
export function shardOf(playbackId: string, shards: number): number {
  // FNV-1a: cheap, stable across isolates and deploys.
  let hash = 0x811c9dc5;
  for (let i = 0; i < playbackId.length; i++) {
    hash ^= playbackId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** The counter's Durable Object name for one shard of a track. */
export const counterName = (trackId: string, shard: number) => `${trackId}/${shard}`;

/** UTC calendar day (YYYY-MM-DD) of an epoch-ms instant: the unit of rollups. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
