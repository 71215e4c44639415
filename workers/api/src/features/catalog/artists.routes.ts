import { createRoute } from "@hono/zod-openapi";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { ArtistCreateSchema, ArtistPatchSchema } from "./catalog-inputs.routes";
import {
  AlbumSchema,
  ArtistSchema,
  BEARER,
  IdParamSchema,
  json,
  jsonBody,
  problems,
} from "../../http/schemas";

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["catalog"],
  summary: "An artist",
  request: { params: IdParamSchema },
  responses: { 200: json(ArtistSchema, "The artist"), ...problems(404) },
});

const albums = createRoute({
  method: "get",
  path: "/{id}/albums",
  tags: ["catalog"],
  summary: "An artist's albums, newest release first",
  request: { params: IdParamSchema, query: PageQuerySchema },
  responses: { 200: json(pageSchema(AlbumSchema), "Albums"), ...problems(400, 404) },
});

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["catalog"],
  summary: "Create an artist (artist accounts and admins)",
  security: BEARER,
  request: { body: jsonBody(ArtistCreateSchema) },
  responses: { 201: json(ArtistSchema, "Created"), ...problems(400, 401, 403, 422) },
});

const update = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["catalog"],
  summary: "Edit an artist (its owner and admins)",
  security: BEARER,
  request: { params: IdParamSchema, body: jsonBody(ArtistPatchSchema) },
  responses: { 200: json(ArtistSchema, "Updated"), ...problems(400, 401, 403, 404, 422) },
});

export const artistRoutes = createRouter()
  .openapi(get, async (c) =>
    c.json(await c.get("services").artists.get(c.req.valid("param").id), 200),
  )
  .openapi(albums, async (c) => {
    const page = await c
      .get("services")
      .artists.listAlbums(c.req.valid("param").id, c.req.valid("query"));
    return c.json(page, 200);
  })
  .openapi(create, async (c) => {
    const artist = await c.get("services").artists.create(c.get("viewer"), c.req.valid("json"));
    return c.json(artist, 201);
  })
  .openapi(update, async (c) => {
    const artist = await c
      .get("services")
      .artists.update(c.get("viewer"), c.req.valid("param").id, c.req.valid("json"));
    return c.json(artist, 200);
  });
