import { TtlCache } from "@edge-music/core/ttl-cache";
import {
  tokenRevocationKey,
  TokenRevocationSchema,
  type TokenRevocation,
} from "@edge-music/core/token-revocation";

/** How long an isolate trusts what it read of a track's revocation record (the documented delay). */
const REVOCATION_MEMO_SECONDS_DEFAULT = 30;
const revocations = new TtlCache<TokenRevocation | null>(10_000);

/**
 * The track's token revocation record (see TokenRevocation), read from R2 at most once per
 * memo period per isolate. A record that does not parse refuses every older token: a broken
 * record must not reopen what it closed.
 */
export async function revocationOf(env: Env, trackId: string): Promise<TokenRevocation | null> {
  const memo = revocations.get(trackId);
  if (memo) return memo.value;
  const object = await env.MEDIA.get(tokenRevocationKey(trackId));
  let record: TokenRevocation | null = null;
  if (object) {
    const parsed = TokenRevocationSchema.safeParse(await object.json().catch(() => null));
    record = parsed.success
      ? parsed.data
      : { version: 1, before: Number.MAX_SAFE_INTEGER, subjects: [], territories: [] };
    if (!parsed.success) {
      console.error(JSON.stringify({ level: "error", message: "unreadable revocation", trackId }));
    }
  }
  const seconds = Number(env.GATE_REVOCATION_MEMO_SECONDS ?? REVOCATION_MEMO_SECONDS_DEFAULT);
  revocations.set(trackId, record, seconds * 1000);
  return record;
}
