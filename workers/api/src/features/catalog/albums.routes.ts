import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../lib/router";
import { AlbumCreateSchema, AlbumPatchSchema } from "./catalog-inputs.routes";
import {
  AlbumWithTracksSchema,
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
  summary: "An album with its tracklist in order",
  request: { params: IdParamSchema },
  responses: { 200: json(AlbumWithTracksSchema, "The album"), ...problems(404) },
});

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["catalog"],
  summary: "Create an album for an artist you manage",
  security: BEARER,
  request: { body: jsonBody(AlbumCreateSchema) },
  responses: { 201: json(AlbumWithTracksSchema, "Created"), ...problems(400, 401, 403, 404, 422) },
});

const update = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["catalog"],
  summary: "Edit an album of an artist you manage",
  security: BEARER,
  request: { params: IdParamSchema, body: jsonBody(AlbumPatchSchema) },
  responses: { 200: json(AlbumWithTracksSchema, "Updated"), ...problems(400, 401, 403, 404, 422) },
});

export const albumRoutes = createRouter()
  .openapi(get, async (c) =>
    c.json(await c.get("services").albums.get(c.get("viewer"), c.req.valid("param").id), 200),
  )
  .openapi(create, async (c) => {
    const album = await c.get("services").albums.create(c.get("viewer"), c.req.valid("json"));
    return c.json(album, 201);
  })
  .openapi(update, async (c) => {
    const album = await c
      .get("services")
      .albums.update(c.get("viewer"), c.req.valid("param").id, c.req.valid("json"));
    return c.json(album, 200);
  });
