import { createRoute, z } from "@hono/zod-openapi";
import { PLAY_EVENT_REFUSALS, PLAY_EVENTS_MAX_PER_BATCH } from "@edge-music/core/play-events";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { requireViewer } from "../../middleware/auth";
import { enforceRateLimits } from "../../middleware/rate-limit";
import { BEARER, TrackSchema, json, jsonBody, problems } from "../../http/schemas";

const ResultSchema = z.object({
  index: z.number().int(),
  eventId: z.string().nullable(),
  status: z.enum(["accepted", "duplicate", "rejected"]),
  code: z.enum(PLAY_EVENT_REFUSALS).optional(),
  reason: z.string().optional(),
});

const postEvents = createRoute({
  method: "post",
  path: "/",
  tags: ["plays"],
  summary: "Report playback events (a batch; each event accepted or refused on its own)",
  description:
    "A playback counts as one stream once 30 s have actually played (`playedMs` summed; seeks add nothing). A resent event is answered `duplicate` and not counted again.",
  security: BEARER,
  request: {
    body: jsonBody(
      z
        .object({
          // Each event is checked on its own, so one bad event does not refuse the batch.
          events: z
            .array(z.unknown().openapi({ type: "object" }))
            .min(1)
            .max(PLAY_EVENTS_MAX_PER_BATCH)
            .openapi({
              description:
                "Each: {eventId (uuid), playbackId (from the grant), trackId, type (start|progress|pause|resume|seek|skip|end), positionMs, playedMs (played since this playback's previous event), rendition, occurredAt (ISO 8601)}",
            }),
        })
        .openapi("PlayEventBatch"),
    ),
  },
  responses: {
    200: json(
      z
        .object({
          accepted: z.number().int(),
          duplicates: z.number().int(),
          rejected: z.number().int(),
          results: z.array(ResultSchema),
        })
        .openapi("PlayEventResults"),
      "What became of each event, in the order sent",
    ),
    ...problems(400, 401, 429),
  },
});

const history = createRoute({
  method: "get",
  path: "/history",
  tags: ["plays"],
  summary: "The caller's counted streams, newest first",
  security: BEARER,
  request: { query: PageQuerySchema },
  responses: {
    200: json(
      pageSchema(
        z.object({
          id: z.string(),
          playedAt: z.string(),
          trackId: z.string(),
          // Described on the field, not on the schema: `.openapi()` on TrackSchema.nullable()
          // would re-register the Track component itself as nullable.
          track: z.union([TrackSchema, z.null()]).describe("null: no longer available"),
        }),
      ),
      "History",
    ),
    ...problems(400, 401),
  },
});

export const playEventRoutes = createRouter().openapi(postEvents, async (c) => {
  const viewer = requireViewer(c.get("viewer"));
  await enforceRateLimits([{ limiter: c.env.EVENTS_LIMITER, key: viewer.id }], "event batches");
  const outcome = await c.get("services").plays.record(viewer, c.req.valid("json").events);
  return c.json(outcome, 200);
});

export const historyRoutes = createRouter().openapi(history, async (c) => {
  const viewer = requireViewer(c.get("viewer"));
  return c.json(await c.get("services").plays.history(viewer, c.req.valid("query")), 200);
});
