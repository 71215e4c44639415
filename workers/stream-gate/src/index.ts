import { KeyRingError, parseKeyRing, type KeyRing } from "@edge-music/core/key-ring";
import { downloadFileName, verifyPlaybackToken } from "@edge-music/core/playback-token";
import { isRevoked } from "@edge-music/core/token-revocation";
import { CONTENT_TYPES, filterManifest, filterMasterPlaylist, parseAssetPath } from "./asset-path";
import { parseRange } from "./range";
import { revocationOf } from "./revocations";

/**
 * The stream-gate: the hot path between players and R2. A playback token in the path
 * (`/p/<token>/<file>`) names the asset version and the highest rendition allowed; the gate
 * never queries D1. Refusals are bare status codes, never cached.
 */
const NO_STORE = { "Cache-Control": "no-store" };
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, ETag",
};
/** Immutable asset versions: media for a year; playlists are rewritten per token, briefly. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const PLAYLIST_CACHE = "private, max-age=60";

const refuse = (status: number) =>
  new Response(null, { status, headers: { ...NO_STORE, ...CORS } });

type Ring = { ok: true; keys: KeyRing } | { ok: false; problem: string };

/** The ring of the secret last seen: one string comparison per request, on the hot path. */
let lastRing: { json: string; ring: Ring } | undefined;

/**
 * Playback keys by key id (a Map, validated: see `parseKeyRing`), parsed once per isolate; a
 * missing or invalid ring is a message naming the problem, and the gate serves nothing.
 */
function playbackKeys(env: Env): Ring {
  const json = env.PLAYBACK_KEYS ?? "";
  if (lastRing?.json !== json) {
    let ring: Ring;
    try {
      ring = { ok: true, keys: parseKeyRing(json, "PLAYBACK_KEYS") };
    } catch (error) {
      if (!(error instanceof KeyRingError)) throw error;
      ring = { ok: false, problem: error.message };
    }
    lastRing = { json, ring };
  }
  return lastRing.ring;
}

/** The cache key of an object: shared by every listener, so it never holds the token. */
const cacheKey = (key: string) => `https://stream-gate.internal/${key}`;

async function serveObject(
  request: Request,
  key: string,
  contentType: string,
  ctx: ExecutionContext,
  env: Env,
) {
  const cache = caches.default;
  const range = request.headers.get("Range");
  // The cache answers single ranges itself; multi-range and If-Range requests go to R2,
  // where the rules below apply (whole object for several ranges, If-Range by ETag).
  const cacheable =
    request.method === "GET" && !request.headers.has("If-Range") && !range?.includes(",");
  if (cacheable) {
    const hit = await cache.match(
      new Request(cacheKey(key), { headers: range ? { Range: range } : {} }),
    );
    // Stored with its CORS and caching headers, so a hit goes out as it is, uncopied.
    if (hit) return hit;
  }
  const head = await env.MEDIA.head(key);
  if (!head) return refuse(404);
  const headers = new Headers({
    "Content-Type": contentType,
    "Accept-Ranges": "bytes",
    ETag: head.httpEtag,
    "Last-Modified": head.uploaded.toUTCString(),
    "Cache-Control": IMMUTABLE,
    ...CORS,
  });
  const ifRange = request.headers.get("If-Range");
  const wanted =
    ifRange && ifRange !== head.httpEtag ? { kind: "full" as const } : parseRange(range, head.size);
  if (wanted.kind === "unsatisfiable") {
    return new Response(null, {
      status: 416,
      headers: { ...NO_STORE, ...CORS, "Content-Range": `bytes */${head.size}` },
    });
  }
  if (request.method === "HEAD") {
    headers.set("Content-Length", String(head.size));
    return new Response(null, { status: 200, headers });
  }
  if (wanted.kind === "partial") {
    const part = await env.MEDIA.get(key, {
      range: { offset: wanted.offset, length: wanted.length },
    });
    if (!part) return refuse(404);
    headers.set(
      "Content-Range",
      `bytes ${wanted.offset}-${wanted.offset + wanted.length - 1}/${head.size}`,
    );
    headers.set("Content-Length", String(wanted.length));
    // Fill the cache with the whole object for the next listener, off the request path.
    if (env.GATE_CACHE !== "off") ctx.waitUntil(fillCache(env, key, headers));
    return new Response(part.body, { status: 206, headers });
  }
  const object = await env.MEDIA.get(key);
  if (!object) return refuse(404);
  headers.set("Content-Length", String(object.size));
  const response = new Response(object.body, { status: 200, headers });
  if (env.GATE_CACHE !== "off") ctx.waitUntil(cache.put(cacheKey(key), response.clone()));
  return response;
}

async function fillCache(env: Env, key: string, template: Headers): Promise<void> {
  const object = await env.MEDIA.get(key);
  if (!object) return;
  const headers = new Headers(template);
  headers.delete("Content-Range");
  headers.set("Content-Length", String(object.size));
  await caches.default.put(cacheKey(key), new Response(object.body, { status: 200, headers }));
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const ring = playbackKeys(env);
    if (request.method === "GET" && url.pathname === "/healthz") {
      // Not healthy without valid keys: `npm start` and deploy checks show why.
      return ring.ok
        ? Response.json({ ok: true, service: "stream-gate" }, { headers: NO_STORE })
        : Response.json(
            { ok: false, service: "stream-gate", error: ring.problem },
            { status: 503, headers: NO_STORE },
          );
    }
    if (request.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          ...CORS,
          "Access-Control-Allow-Methods": "GET, HEAD",
          "Access-Control-Allow-Headers": "Range, If-Range",
          "Access-Control-Max-Age": "86400",
        },
      });
    }
    const match = /^\/p\/([A-Za-z0-9_.-]+)\/(.+)$/.exec(url.pathname);
    if (!match) return refuse(404);
    if (request.method !== "GET" && request.method !== "HEAD") return refuse(405);
    const [, token = "", rawPath = ""] = match;
    if (!ring.ok) {
      console.error(
        JSON.stringify({ level: "error", message: "refusing to serve", error: ring.problem }),
      );
      return refuse(503);
    }
    const verified = await verifyPlaybackToken(token, ring.keys, {
      clientIp: request.headers.get("CF-Connecting-IP") ?? "",
    });
    if (!verified.ok) return refuse(verified.refusal === "expired" ? 410 : 403);
    // The track may have stopped being playable for this listener since the grant.
    if (isRevoked(verified.claims, await revocationOf(env, verified.claims.trk)))
      return refuse(403);
    const file = parseAssetPath(rawPath);
    if (!file) return refuse(rawPath.includes("..") || rawPath.includes("%") ? 403 : 404);
    const { claims } = verified;
    if (file.renditionRank !== null && file.renditionRank > claims.max) return refuse(403);
    // A download token opens one media file and nothing else, as an attachment.
    if (claims.dl !== undefined && file.name !== `${claims.dl}/media.mp4`) return refuse(403);
    const key = `tracks/${claims.trk}/${claims.av}/${file.name}`;
    const contentType = CONTENT_TYPES[file.kind];
    if (file.name === "master.m3u8" || file.name === "manifest.mpd") {
      const object = await env.MEDIA.get(key);
      if (!object) return refuse(404);
      const text = await object.text();
      const body =
        file.name === "master.m3u8"
          ? filterMasterPlaylist(text, claims.max)
          : filterManifest(text, claims.max);
      return new Response(request.method === "HEAD" ? null : body, {
        headers: { "Content-Type": contentType, "Cache-Control": PLAYLIST_CACHE, ...CORS },
      });
    }
    const response = await serveObject(request, key, contentType, ctx, env);
    if (claims.dl === undefined || !response.ok) return response;
    const attachment = new Response(response.body, response);
    attachment.headers.set(
      "Content-Disposition",
      `attachment; filename="${downloadFileName(claims)}"`,
    );
    attachment.headers.set("Cache-Control", "private, no-store");
    return attachment;
  },
} satisfies ExportedHandler<Env>;
