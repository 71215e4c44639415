/**
 * Bench-only worker: the suggest query written the naive way, `LIKE '%q%'` over the joined
 * catalog, served over HTTP like the api so both are measured through the same path.
 * Never deployed.
 */
export default {
  async fetch(request, env) {
    const started = Date.now();
    const q = new URL(request.url).searchParams.get("q") ?? "";
    const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const { results } = await env.DB.prepare(
      `SELECT t.id, t.title AS text, a.name AS subtitle
       FROM tracks t JOIN artists a ON a.id = t.artist_id
       WHERE t.visibility = 'public'
         AND (t.title || ' ' || a.name) LIKE ?1 ESCAPE '\\'
       ORDER BY t.popularity DESC LIMIT 8`,
    )
      .bind(pattern)
      .all();
    return Response.json(
      { items: results },
      { headers: { "Server-Timing": `app;dur=${Date.now() - started}` } },
    );
  },
} satisfies ExportedHandler<{ DB: D1Database }>;
