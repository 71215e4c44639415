/**
 * The listener's country from Cloudflare (`request.cf.country`). Locally there is none, so
 * outside production the `X-Dev-Country` header stands in; production ignores it.
 */
export function territoryOf(request: Request, env: Env): string | null {
  const override = env.ENVIRONMENT !== "production" ? request.headers.get("X-Dev-Country") : null;
  const country =
    override ?? (request as Request & { cf?: { country?: string } }).cf?.country ?? null;
  return country && /^[A-Za-z]{2}$/.test(country) ? country.toUpperCase() : null;
}
