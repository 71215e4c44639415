import { createRoute, z } from "@hono/zod-openapi";
import { territoryOf } from "../../lib/territory";
import { createRouter } from "../../lib/router";
import { requireViewer } from "../../middleware/auth";
import { BEARER, IdParamSchema, TrackSchema, json, problems } from "../../http/schemas";

const ReasonSchema = z
  .object({
    kind: z.enum(["played", "liked", "co_listened", "artist", "genre", "popular"]),
    text: z.string().openapi({ example: "Because you played Polar Night" }),
    trackId: z.string().optional().openapi({ description: "The track behind the reason." }),
    artistId: z.string().optional(),
    genreId: z.string().optional(),
    territory: z.string().nullable().optional(),
  })
  .openapi("Reason");

const RecommendationsSchema = z
  .object({ items: z.array(z.object({ track: TrackSchema, reason: ReasonSchema })) })
  .openapi("Recommendations");

const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(50).default(20) });

const forYou = createRoute({
  method: "get",
  path: "/for-you",
  tags: ["library"],
  summary: "Tracks for the caller, each with the reason it was picked",
  description:
    "Neighbours of what the caller played and liked lately (co-listening, recomputed daily), " +
    "mixed with more from their artists and genres; never what they played in the last day, " +
    "never what they cannot play here. New listeners get the most streamed tracks in their territory.",
  security: BEARER,
  request: { query: LimitQuery },
  responses: { 200: json(RecommendationsSchema, "Recommendations"), ...problems(400, 401) },
});

const similar = createRoute({
  method: "get",
  path: "/{id}/similar",
  tags: ["catalog"],
  summary: "Tracks listened to by the same people, then the same artist and genre",
  request: { params: IdParamSchema, query: LimitQuery },
  responses: { 200: json(RecommendationsSchema, "Similar tracks"), ...problems(400, 404) },
});

export const recommendationRoutes = createRouter().openapi(forYou, async (c) => {
  const viewer = requireViewer(c.get("viewer"));
  const items = await c
    .get("services")
    .recommendations.forYou(viewer, territoryOf(c.req.raw, c.env), c.req.valid("query").limit);
  return c.json({ items }, 200);
});

export const similarTrackRoutes = createRouter().openapi(similar, async (c) => {
  const items = await c
    .get("services")
    .recommendations.similar(
      c.get("viewer"),
      c.req.valid("param").id,
      territoryOf(c.req.raw, c.env),
      c.req.valid("query").limit,
    );
  return c.json({ items }, 200);
});
