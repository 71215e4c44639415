import { createRoute, z } from "@hono/zod-openapi";
import { PLAYLIST_VISIBILITIES } from "@edge-music/core/db/schema";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { createRouter } from "../../lib/router";
import { territoryOf } from "../../lib/territory";
import { requireViewer } from "../../middleware/auth";
import { PLAYLIST_ADD_MAX, type PlaylistView } from "./playlists";
import { BEARER, IdParamSchema, TrackSchema, json, jsonBody, problems } from "../../http/schemas";

export const PlaylistSchema = z
  .object({
    id: z.string(),
    ownerId: z.string(),
    title: z.string(),
    description: z.string(),
    visibility: z.enum(PLAYLIST_VISIBILITIES),
    revision: z
      .number()
      .int()
      .openapi({ description: "Send it back as `If-Match` when changing the playlist." }),
    itemCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Playlist");

const ItemSchema = z.object({
  id: z.string(),
  position: z.number().int(),
  addedAt: z.string(),
  track: TrackSchema.nullable(),
  available: z.boolean(),
  unavailableReason: z.enum(["NOT_VISIBLE", "NOT_READY", "NOT_AVAILABLE_IN_TERRITORY"]).nullable(),
});

const Fields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(2000),
  visibility: z.enum(PLAYLIST_VISIBILITIES),
};
const ItemParams = IdParamSchema.extend({ itemId: z.string().min(1).max(64) });
const IF_MATCH = {
  headers: z.object({
    "if-match": z
      .string()
      .max(40)
      .optional()
      .openapi({ description: 'The revision you last saw, e.g. "3": 409 if it has moved on.' }),
  }),
};
const changed = (description: string) => ({
  200: json(PlaylistSchema, description),
  ...problems(400, 401, 403, 404, 409, 422),
});

/** `"3"`, `W/"3"` or `3` → 3; absent → null. */
function revisionOf(header: string | undefined): number | null {
  if (header === undefined) return null;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!match?.[1]) {
    throw new DomainError("INVALID_IF_MATCH", 'If-Match must be a revision such as "3".');
  }
  return Number(match[1]);
}

/** The playlist as JSON, with its revision as the ETag. */
function withEtag(c: { header: (name: string, value: string) => void }, p: PlaylistView) {
  c.header("ETag", `"${p.revision}"`);
  return p;
}

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["playlists"],
  summary: "Create a playlist (private unless said otherwise)",
  security: BEARER,
  request: {
    body: jsonBody(
      z
        .object({
          title: Fields.title,
          description: Fields.description.optional(),
          visibility: Fields.visibility.optional(),
        })
        .openapi("CreatePlaylist"),
    ),
  },
  responses: { 201: json(PlaylistSchema, "Created"), ...problems(400, 401, 422) },
});

const mine = createRoute({
  method: "get",
  path: "/",
  tags: ["playlists"],
  summary: "The caller's playlists, newest first",
  security: BEARER,
  request: { query: PageQuerySchema },
  responses: { 200: json(pageSchema(PlaylistSchema), "Playlists"), ...problems(400, 401) },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["playlists"],
  summary: "A playlist with its tracks; each says whether the caller can play it",
  request: { params: IdParamSchema },
  responses: {
    200: json(PlaylistSchema.extend({ items: z.array(ItemSchema) }), "The playlist"),
    ...problems(404),
  },
});

const update = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["playlists"],
  summary: "Rename, describe, or make a playlist public or private",
  security: BEARER,
  request: {
    params: IdParamSchema,
    ...IF_MATCH,
    body: jsonBody(
      z
        .object({
          title: Fields.title.optional(),
          description: Fields.description.optional(),
          visibility: Fields.visibility.optional(),
        })
        .refine((b) => Object.keys(b).length > 0, "nothing to change")
        .openapi("UpdatePlaylist"),
    ),
  },
  responses: changed("Updated"),
});

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["playlists"],
  summary: "Delete a playlist",
  security: BEARER,
  request: { params: IdParamSchema, ...IF_MATCH },
  responses: { 204: { description: "Deleted" }, ...problems(400, 401, 403, 404, 409) },
});

const addTracks = createRoute({
  method: "post",
  path: "/{id}/tracks",
  tags: ["playlists"],
  summary: "Add tracks at a position (default: the end)",
  security: BEARER,
  request: {
    params: IdParamSchema,
    ...IF_MATCH,
    body: jsonBody(
      z
        .object({
          trackIds: z.array(z.string().min(1).max(64)).min(1).max(PLAYLIST_ADD_MAX),
          position: z.number().int().min(0).optional(),
        })
        .openapi("AddPlaylistTracks"),
    ),
  },
  responses: changed("Added"),
});

const removeItem = createRoute({
  method: "delete",
  path: "/{id}/tracks/{itemId}",
  tags: ["playlists"],
  summary: "Remove one entry",
  security: BEARER,
  request: { params: ItemParams, ...IF_MATCH },
  responses: changed("Removed"),
});

const moveItem = createRoute({
  method: "patch",
  path: "/{id}/tracks/{itemId}",
  tags: ["playlists"],
  summary: "Move one entry to another position",
  security: BEARER,
  request: {
    params: ItemParams,
    ...IF_MATCH,
    body: jsonBody(z.object({ position: z.number().int().min(0) }).openapi("MovePlaylistEntry")),
  },
  responses: changed("Moved"),
});

export const playlistRoutes = createRouter()
  .openapi(create, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const created = await c.get("services").playlists.create(viewer, c.req.valid("json"));
    return c.json(withEtag(c, created), 201);
  })
  .openapi(mine, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(
      await c.get("services").playlists.listOf(viewer, viewer.id, c.req.valid("query")),
      200,
    );
  })
  .openapi(get, async (c) => {
    const playlist = await c
      .get("services")
      .playlists.get(c.get("viewer"), c.req.valid("param").id, territoryOf(c.req.raw, c.env));
    return c.json(withEtag(c, playlist) as typeof playlist, 200);
  })
  .openapi(update, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const updated = await c
      .get("services")
      .playlists.update(
        viewer,
        c.req.valid("param").id,
        c.req.valid("json"),
        revisionOf(c.req.valid("header")["if-match"]),
      );
    return c.json(withEtag(c, updated), 200);
  })
  .openapi(remove, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    await c
      .get("services")
      .playlists.remove(
        viewer,
        c.req.valid("param").id,
        revisionOf(c.req.valid("header")["if-match"]),
      );
    return c.body(null, 204);
  })
  .openapi(addTracks, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const body = c.req.valid("json");
    const updated = await c
      .get("services")
      .playlists.addTracks(
        viewer,
        c.req.valid("param").id,
        body.trackIds,
        body.position,
        revisionOf(c.req.valid("header")["if-match"]),
      );
    return c.json(withEtag(c, updated), 200);
  })
  .openapi(removeItem, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const { id, itemId } = c.req.valid("param");
    const updated = await c
      .get("services")
      .playlists.removeItem(viewer, id, itemId, revisionOf(c.req.valid("header")["if-match"]));
    return c.json(withEtag(c, updated), 200);
  })
  .openapi(moveItem, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const { id, itemId } = c.req.valid("param");
    const updated = await c
      .get("services")
      .playlists.moveItem(
        viewer,
        id,
        itemId,
        c.req.valid("json").position,
        revisionOf(c.req.valid("header")["if-match"]),
      );
    return c.json(withEtag(c, updated), 200);
  });

const ofUser = createRoute({
  method: "get",
  path: "/{id}/playlists",
  tags: ["playlists"],
  summary: "A user's playlists: all for the owner, public ones for everyone else",
  request: { params: IdParamSchema, query: PageQuerySchema },
  responses: { 200: json(pageSchema(PlaylistSchema), "Playlists"), ...problems(400, 404) },
});

export const userPlaylistRoutes = createRouter().openapi(ofUser, async (c) =>
  c.json(
    await c
      .get("services")
      .playlists.listOf(c.get("viewer"), c.req.valid("param").id, c.req.valid("query")),
    200,
  ),
);
