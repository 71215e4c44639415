/**
 * Bench-only baseline: the least a worker can do to serve a byte range from R2 (no token,
 * no cache, no checks). Never deployed.
 */
export default {
  async fetch(request, env) {
    const key = new URL(request.url).pathname.slice(1);
    if (key === "healthz") return new Response("ok");
    const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.get("Range") ?? "");
    if (!match) return new Response(null, { status: 400 });
    const offset = Number(match[1]);
    const length = Number(match[2]) - offset + 1;
    const object = await env.MEDIA.get(key, { range: { offset, length } });
    if (!object) return new Response(null, { status: 404 });
    return new Response(object.body, {
      status: 206,
      headers: {
        "Content-Type": "audio/mp4",
        "Content-Range": `bytes ${offset}-${offset + length - 1}/${object.size}`,
      },
    });
  },
} satisfies ExportedHandler<{ MEDIA: R2Bucket }>;
