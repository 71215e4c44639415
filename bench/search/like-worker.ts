import { LIKE_SUGGEST_SQL, likePattern } from "./like-query";

/**
 * Bench-only worker serving the LIKE baseline over HTTP like the api, so both are measured
 * through the same path. Never deployed.
 */
export default {
  async fetch(request, env) {
    const started = Date.now();
    const q = new URL(request.url).searchParams.get("q") ?? "";
    const { results } = await env.DB.prepare(LIKE_SUGGEST_SQL).bind(likePattern(q)).all();
    return Response.json(
      { items: results },
      { headers: { "Server-Timing": `app;dur=${Date.now() - started}` } },
    );
  },
} satisfies ExportedHandler<{ DB: D1Database }>;
