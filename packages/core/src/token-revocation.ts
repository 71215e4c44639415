import { z } from "zod";
import type { PlaybackClaims } from "./playback-token";

/**
 * When a track stops being playable for some listeners (made private, rights ended or moved
 * out of a territory), the api writes this record beside the track's media; the stream-gate
 * reads it (briefly memoised per isolate) and refuses tokens issued before `before` unless
 * their listener or territory may still play. Tokens issued later were checked against the
 * new state when granted, so they pass.
 */
export const TokenRevocationSchema = z.object({
  version: z.literal(1),
  /** Epoch ms: tokens issued earlier are checked against the lists below. */
  before: z.number().int(),
  /** Listeners who may still play whatever their territory (a private track's owner). */
  subjects: z.array(z.string().min(1)).max(10),
  /** Territories where anyone may still play: `*` for everywhere. */
  territories: z.union([z.literal("*"), z.array(z.string().length(2)).max(300)]),
  /**
   * The track's current asset version, once it has replaced another (re-packaging): tokens
   * naming any other version are void whenever they were issued, so superseded media (clear
   * files still in edge caches) is never served again.
   */
  asset: z.string().min(1).optional(),
});
export type TokenRevocation = z.infer<typeof TokenRevocationSchema>;

/** The R2 key of a track's record (beside its asset versions, so erasure removes it too). */
export const tokenRevocationKey = (trackId: string) => `tracks/${trackId}/token-revocation.json`;

/** Whether a verified token is void under a track's record. */
export function isRevoked(claims: PlaybackClaims, record: TokenRevocation | null): boolean {
  if (!record) return false;
  if (record.asset !== undefined && claims.av !== record.asset) return true;
  // Tokens from before `iat` existed count as issued at 0: older than any record.
  if ((claims.iat ?? 0) * 1000 >= record.before) return false;
  if (record.subjects.includes(claims.sub)) return false;
  if (record.territories === "*") return false;
  return !record.territories.includes(claims.ter ?? "");
}
