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
/**
 * A grant's row is kept this long after it expires: longer than any counter keeps state about
 * its playbacks (events up to a day late, then the dedup window), so erasing an account can
 * still find every counter that holds something of it.
 */
export const PLAYBACK_STATE_RETENTION_MS = PLAY_EVENT_MAX_AGE_MS + PLAY_DEDUP_WINDOW_MS;
/** Timer jitter allowed between `playedMs` and the wall time it claims to cover. */
export const PLAYED_TOLERANCE_MS = 1_000;
/** Territory recorded when the listener's country is unknown (ISO 3166 user-assigned). */
export const UNKNOWN_TERRITORY = "ZZ";

/**
 * Why a counted stream bears no royalty: played by the account that owns the track or
 * manages a holder of its rights, or past the daily repeat cap. `""`: royalty-bearing.
 */
export const EXCLUSIONS = ["SELF_PLAY", "REPEAT_CAP"] as const;
export type Exclusion = (typeof EXCLUSIONS)[number];

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
 * grant time, the counter shard, when it was granted and when it expires (ms). It is worth
 * nothing after `exp`, and nothing that outlives the grant (history, rollups) is keyed by it.
 */
export const PlaybackIdClaimsSchema = z.object({
  sub: z.string().min(1),
  trk: z.string().min(1),
  ter: z.string().length(2),
  pln: z.string().min(1),
  shd: z.number().int().min(0),
  iat: z.number().int(),
  exp: z.number().int(),
  /** Random: two grants in the same millisecond still differ. */
  n: z.string().min(8),
});
export type PlaybackIdClaims = z.infer<typeof PlaybackIdClaimsSchema>;

const PLAYBACK_ID_TAG = "pb2";
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
  "GRANT_EXPIRED",
  "NOT_PLAYABLE",
  "TOO_MANY_STREAMS",
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
  /** Royalty-bearing streams per listener and UTC day; more are `REPEAT_CAP` exclusions. */
  repeatCap: z.number().int().min(1),
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
        /** Played by the account that owns the track or manages a holder of its rights. */
        selfPlay: z.boolean(),
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

/**
 * Which of a track's counters an account's playbacks go to (chosen at grant time and signed
 * into the playback id): always the same one for one account, so its daily repeat cap is
 * counted in one place, while a hot track's many listeners spread over the shards.
 */
export function shardOf(userId: string, shards: number): number {
  // FNV-1a: cheap, stable across isolates and deploys.
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/**
 * What the api asks an account's ListenerStreams object: may these events' played time
 * accumulate, given the account's other playbacks? Each event covers `[startMs, endMs]` of
 * the listener's clock. Versioned.
 */
export const StreamAdmissionSchema = z.object({
  version: z.literal(1),
  limit: z.number().int().min(1).max(20),
  events: z
    .array(
      z.object({
        eventId: z.uuid(),
        playbackId: z.string().min(1).max(PLAYBACK_ID_MAX_LENGTH),
        startMs: z.number().int(),
        endMs: z.number().int(),
      }),
    )
    .max(PLAY_EVENTS_MAX_PER_BATCH),
});
export type StreamAdmission = z.infer<typeof StreamAdmissionSchema>;

/** The counter's Durable Object name for one shard of a track. */
export const counterName = (trackId: string, shard: number) => `${trackId}/${shard}`;

/** UTC calendar day (YYYY-MM-DD) of an epoch-ms instant: the unit of rollups. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
