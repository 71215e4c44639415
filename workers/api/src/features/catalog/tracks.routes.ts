import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../../lib/router";
import { TrackCreateSchema, TrackPatchSchema } from "./catalog-inputs.routes";
import { BEARER, IdParamSchema, TrackSchema, json, jsonBody, problems } from "../../http/schemas";

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["catalog"],
  summary: "A track (private tracks: owner only, 404 for everyone else)",
  request: { params: IdParamSchema },
  responses: { 200: json(TrackSchema, "The track"), ...problems(404) },
});

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["catalog"],
  summary: "Create a track (metadata) for an artist you manage",
  security: BEARER,
  request: { body: jsonBody(TrackCreateSchema) },
  responses: { 201: json(TrackSchema, "Created"), ...problems(400, 401, 403, 404, 409, 422) },
});

const update = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["catalog"],
  summary: "Edit a track you own or manage",
  security: BEARER,
  request: { params: IdParamSchema, body: jsonBody(TrackPatchSchema) },
  responses: {
    200: json(TrackSchema, "Updated"),
    ...problems(400, 401, 403, 404, 409, 422, 503),
  },
});

export const trackRoutes = createRouter()
  .openapi(get, async (c) =>
    c.json(await c.get("services").tracks.get(c.get("viewer"), c.req.valid("param").id), 200),
  )
  .openapi(create, async (c) => {
    const track = await c.get("services").tracks.create(c.get("viewer"), c.req.valid("json"));
    return c.json(track, 201);
  })
  .openapi(update, async (c) => {
    const services = c.get("services");
    const patch = c.req.valid("json");
    const track = await services.tracks.update(c.get("viewer"), c.req.valid("param").id, patch);
    // Who may play it may have changed: listeners' tokens follow within the gate's memo time.
    if (patch.visibility !== undefined) await services.revocations.settle(track.id);
    return c.json(track, 200);
  });
