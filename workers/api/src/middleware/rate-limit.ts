import { ApiError } from "../lib/problem";

/** The period of the `[[ratelimits]]` bindings in wrangler.toml, in seconds. */
export const AUTH_RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Throws 429 with `Retry-After` when any of the keyed limits is exhausted. The binding's
 * counters are per Cloudflare location and eventually consistent: a brake, not a ledger.
 */
export async function enforceRateLimits(
  checks: { limiter: RateLimit; key: string }[],
): Promise<void> {
  const outcomes = await Promise.all(checks.map(({ limiter, key }) => limiter.limit({ key })));
  if (outcomes.some((o) => !o.success)) {
    throw new ApiError(
      429,
      "RATE_LIMITED",
      "Too many attempts; wait a minute and try again.",
      {},
      { "Retry-After": String(AUTH_RATE_LIMIT_PERIOD_SECONDS) },
    );
  }
}
