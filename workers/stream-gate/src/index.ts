/**
 * The stream-gate: the hot path between players and R2. The playback issue adds token
 * verification and byte-range serving; until then it answers health checks and refuses
 * everything else with a bare status, as it always will for what it will not serve.
 */
const NO_STORE = { "Cache-Control": "no-store" };

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/healthz") {
      return Response.json({ ok: true, service: "stream-gate" }, { headers: NO_STORE });
    }
    return new Response(null, { status: 404, headers: NO_STORE });
  },
} satisfies ExportedHandler<Env>;
