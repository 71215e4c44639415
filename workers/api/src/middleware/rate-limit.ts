import { DomainError } from "@edge-music/core/api-errors";

/** The period of every `[[ratelimits]]` binding in wrangler.toml, in seconds. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Throws 429 with `Retry-After` when any of the keyed limits is exhausted. The binding's
 * counters are per Cloudflare location and eventually consistent: a brake, not a ledger.
 * `what` names what was limited, for the message.
 */
export async function enforceRateLimits(
  checks: { limiter: RateLimit; key: string }[],
  what = "attempts",
): Promise<void> {
  const outcomes = await Promise.all(checks.map(({ limiter, key }) => limiter.limit({ key })));
  if (outcomes.some((o) => !o.success)) {
    throw new DomainError("RATE_LIMITED", `Too many ${what}; wait a minute and try again.`, {
      retryAfterSeconds: RATE_LIMIT_PERIOD_SECONDS,
    });
  }
}
