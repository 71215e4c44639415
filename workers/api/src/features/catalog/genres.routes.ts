import { createRoute } from "@hono/zod-openapi";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { GenreSchema, IdParamSchema, TrackSchema, json, problems } from "../../http/schemas";

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["catalog"],
  summary: "All genres",
  request: { query: PageQuerySchema },
  responses: { 200: json(pageSchema(GenreSchema), "Genres"), ...problems(400) },
});

const genreTracks = createRoute({
  method: "get",
  path: "/{id}/tracks",
  tags: ["catalog"],
  summary: "A genre's tracks, most streamed first",
  request: { params: IdParamSchema, query: PageQuerySchema },
  responses: { 200: json(pageSchema(TrackSchema), "Tracks"), ...problems(400, 404) },
});

export const genreRoutes = createRouter()
  .openapi(list, async (c) =>
    c.json(await c.get("services").genres.list(c.req.valid("query")), 200),
  )
  .openapi(genreTracks, async (c) => {
    const page = await c
      .get("services")
      .genres.tracks(c.get("viewer"), c.req.valid("param").id, c.req.valid("query"));
    return c.json(page, 200);
  });
