import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../lib/router";
import { territoryOf } from "../../lib/territory";
import { requireViewer } from "../../middleware/auth";
import { enforceRateLimits } from "../../middleware/rate-limit";
import { BEARER, IdParamSchema, json, jsonBody, problems } from "../../http/schemas";

const GrantSchema = z
  .object({
    playbackId: z
      .string()
      .openapi({ description: "Put this on every playback event of this play." }),
    token: z.string(),
    expiresAt: z.string(),
    format: z.enum(["hls", "dash", "progressive"]),
    hls: z.string(),
    dash: z.string(),
    progressive: z.string().nullable(),
    renditions: z.array(
      z.object({
        id: z.string(),
        bandwidth: z.number(),
        averageBandwidth: z.number(),
        codecs: z.string(),
      }),
    ),
    loudness: z.object({
      integratedLufs: z.number(),
      gainDb: z.number().openapi({ description: "Gain to apply for -14 LUFS." }),
    }),
    waveform: z.string(),
    durationMs: z.number().int(),
    protection: z
      .object({
        scheme: z.literal("cbcs"),
        keySystem: z.literal("org.w3.clearkey"),
        keyId: z.string().openapi({ description: "32 hex digits, as the manifests write it." }),
        licenseUrl: z.string().openapi({
          description:
            "POST the EME keyids message here with X-Playback-Token: <token> and your access token.",
        }),
      })
      .nullable()
      .openapi({ description: "How the media is encrypted; null when it is clear." }),
  })
  .openapi("PlaybackGrant");

const grant = createRoute({
  method: "post",
  path: "/{id}/playback",
  tags: ["playback"],
  summary: "Get a playback token and the stream-gate URLs for a track",
  security: BEARER,
  request: {
    params: IdParamSchema,
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.object({ format: z.enum(["hls", "dash", "progressive"]).optional() }),
        },
      },
    },
  },
  responses: { 200: json(GrantSchema, "Granted"), ...problems(400, 401, 404, 409, 429, 451) },
});

const download = createRoute({
  method: "post",
  path: "/{id}/download",
  tags: ["playback"],
  summary: "Premium: a token to save one whole rendition for offline listening",
  security: BEARER,
  request: {
    params: IdParamSchema,
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.object({ rendition: z.enum(["aac_256", "flac"]).optional() }),
        },
      },
    },
  },
  responses: {
    200: json(
      z
        .object({ token: z.string(), expiresAt: z.string(), url: z.string() })
        .openapi("DownloadGrant"),
      "Granted",
    ),
    ...problems(400, 401, 402, 404, 409, 429, 451),
  },
});

export const playbackRoutes = createRouter()
  .openapi(grant, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    await enforceRateLimits([{ limiter: c.env.GRANT_LIMITER, key: viewer.id }], "playbacks");
    const body = c.req.valid("json") as { format?: "hls" | "dash" | "progressive" } | undefined;
    const result = await c
      .get("services")
      .playback.grant(
        viewer,
        c.req.valid("param").id,
        body?.format ?? "hls",
        territoryOf(c.req.raw, c.env),
        new URL(c.req.url).origin,
      );
    return c.json(result, 200);
  })
  .openapi(download, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    await enforceRateLimits([{ limiter: c.env.GRANT_LIMITER, key: viewer.id }], "playbacks");
    const body = c.req.valid("json") as { rendition?: "aac_256" | "flac" } | undefined;
    const result = await c
      .get("services")
      .playback.download(
        viewer,
        c.req.valid("param").id,
        body?.rendition ?? "aac_256",
        territoryOf(c.req.raw, c.env),
        new URL(c.req.url).origin,
      );
    return c.json(result, 200);
  });

const downloadFile = createRoute({
  method: "get",
  path: "/{token}",
  tags: ["playback"],
  summary: "The file of a download grant, decrypted for the listener (encrypted media only)",
  description:
    "The `url` of a download grant for encrypted media. The token in the path is the grant; " +
    "it expires with it. Clear media downloads come from the stream-gate instead.",
  request: {
    params: z.object({
      token: z
        .string()
        .max(2048)
        .openapi({ param: { name: "token", in: "path" } }),
    }),
  },
  responses: {
    200: {
      description: "The rendition as an ordinary (clear) MP4 audio file",
      content: { "audio/mp4": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...problems(404),
  },
});

export const downloadRoutes = createRouter().openapi(downloadFile, async (c) => {
  const file = await c.get("services").playback.openDownload(c.req.valid("param").token);
  return new Response(file.body, {
    headers: {
      "Content-Type": "audio/mp4",
      "Content-Length": String(file.sizeBytes),
      "Content-Disposition": `attachment; filename="${file.filename}"`,
      "Cache-Control": "private, no-store",
    },
  });
});

export const setPlanRoute = createRoute({
  method: "put",
  path: "/{id}/plan",
  tags: ["admin"],
  summary: "Admin: set an account's plan (free, premium)",
  security: BEARER,
  request: {
    params: IdParamSchema,
    body: jsonBody(z.object({ plan: z.enum(["free", "premium"]) }).openapi("SetPlanRequest")),
  },
  responses: {
    200: json(z.object({ id: z.string(), plan: z.string() }).passthrough(), "Updated account"),
    ...problems(400, 401, 403, 404),
  },
});
