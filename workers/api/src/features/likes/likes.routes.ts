import { createRoute, z } from "@hono/zod-openapi";
import { LIKE_KINDS } from "@edge-music/core/db/schema";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { requireViewer } from "../../middleware/auth";
import { AlbumSchema, ArtistSchema, BEARER, TrackSchema, json, problems } from "../../http/schemas";
import { PlaylistSchema } from "../playlists/playlists.routes";

const LikeParams = z.object({
  type: z.enum(LIKE_KINDS).openapi({ param: { name: "type", in: "path" } }),
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

/** A like of one kind, with the liked thing as the api shows it (null: no longer visible). */
const likeOf = <T extends z.ZodType>(item: T) =>
  z.object({
    type: z.enum(LIKE_KINDS),
    id: z.string(),
    likedAt: z.string(),
    item: z.union([item, z.null()]).describe("The liked thing; null if no longer visible."),
  });

const LikeSchema = likeOf(
  z.union([TrackSchema, AlbumSchema, ArtistSchema, PlaylistSchema]),
).openapi("Like");

const like = createRoute({
  method: "put",
  path: "/likes/{type}/{id}",
  tags: ["library"],
  summary: "Like a track, album, artist or playlist (idempotent)",
  security: BEARER,
  request: { params: LikeParams },
  responses: { 204: { description: "Liked" }, ...problems(400, 401, 404, 422) },
});

const unlike = createRoute({
  method: "delete",
  path: "/likes/{type}/{id}",
  tags: ["library"],
  summary: "Take a like back (idempotent)",
  security: BEARER,
  request: { params: LikeParams },
  responses: { 204: { description: "Not liked" }, ...problems(400, 401) },
});

const list = createRoute({
  method: "get",
  path: "/likes",
  tags: ["library"],
  summary: "The caller's likes of one type, newest first",
  security: BEARER,
  request: { query: PageQuerySchema.extend({ type: z.enum(LIKE_KINDS) }) },
  responses: { 200: json(pageSchema(LikeSchema), "Likes"), ...problems(400, 401) },
});

const Section = <T extends z.ZodType>(item: T) =>
  z.object({ total: z.number().int(), items: z.array(item) });

const library = createRoute({
  method: "get",
  path: "/library",
  tags: ["library"],
  summary: "Liked items and the caller's own uploads and playlists, newest first",
  description: "The first `limit` of each section with its total; page on with the list endpoints.",
  security: BEARER,
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) }) },
  responses: {
    200: json(
      z
        .object({
          likedTracks: Section(likeOf(TrackSchema)),
          likedAlbums: Section(likeOf(AlbumSchema)),
          likedArtists: Section(likeOf(ArtistSchema)),
          likedPlaylists: Section(likeOf(PlaylistSchema)),
          uploads: Section(TrackSchema),
          playlists: Section(PlaylistSchema),
        })
        .openapi("Library"),
      "The library",
    ),
    ...problems(400, 401),
  },
});

export const likeRoutes = createRouter()
  .openapi(like, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const { type, id } = c.req.valid("param");
    await c.get("services").likes.like(viewer, type, id);
    return c.body(null, 204);
  })
  .openapi(unlike, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const { type, id } = c.req.valid("param");
    await c.get("services").likes.unlike(viewer, type, id);
    return c.body(null, 204);
  })
  .openapi(list, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const { type, ...page } = c.req.valid("query");
    return c.json(await c.get("services").likes.list(viewer, type, page), 200);
  })
  .openapi(library, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").likes.library(viewer, c.req.valid("query").limit), 200);
  });
