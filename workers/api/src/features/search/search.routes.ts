import { createRoute, z } from "@hono/zod-openapi";
import { SEARCH_QUERY_MAX_CHARS } from "@edge-music/core/search-text";
import { PageQuerySchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { AlbumSchema, TrackSchema, json, problems } from "../../http/schemas";

const q = z.string().trim().min(1).max(SEARCH_QUERY_MAX_CHARS).openapi({ example: "beyonce hal" });
const MatchSchema = z.enum(["exact", "fuzzy"]).openapi({
  description: "`fuzzy` when nothing matched as typed and the typo-tolerant fallback answered.",
});

const ArtistHitSchema = z
  .object({ id: z.string(), name: z.string(), bio: z.string(), createdAt: z.string() })
  .openapi("ArtistHit");

const search = createRoute({
  method: "get",
  path: "/",
  tags: ["search"],
  summary: "Full-text search of tracks, artists or albums",
  request: {
    query: PageQuerySchema.extend({
      q,
      type: z.enum(["track", "artist", "album"]).default("track"),
    }),
  },
  responses: {
    200: json(
      z
        .object({
          items: z.array(z.union([TrackSchema, ArtistHitSchema, AlbumSchema])),
          nextCursor: z.string().nullable(),
          match: MatchSchema,
        })
        .openapi("SearchResult"),
      "Results, most relevant first, then most popular",
    ),
    ...problems(400),
  },
});

const suggest = createRoute({
  method: "get",
  path: "/suggest",
  tags: ["search"],
  summary: "Type-ahead suggestions: the last word is matched as a prefix",
  request: { query: z.object({ q }) },
  responses: {
    200: json(
      z
        .object({
          items: z.array(
            z.object({
              type: z.enum(["track", "artist", "album"]),
              id: z.string(),
              text: z.string(),
              subtitle: z.string(),
            }),
          ),
          match: MatchSchema,
        })
        .openapi("Suggestions"),
      "Suggestions",
    ),
    ...problems(400),
  },
});

export const searchRoutes = createRouter()
  .openapi(search, async (c) =>
    c.json(await c.get("services").search.search(c.get("viewer"), c.req.valid("query")), 200),
  )
  .openapi(suggest, async (c) => {
    const result = await c.get("services").search.suggest(c.get("viewer"), c.req.valid("query").q);
    // Suggestions change slowly; a short private cache smooths keystroke bursts.
    c.header("Cache-Control", "private, max-age=30");
    return c.json(result, 200);
  });
