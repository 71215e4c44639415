import { createRoute, z } from "@hono/zod-openapi";
import { RIGHT_TYPES } from "@edge-music/core/db/schema";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { requireRole, requireViewer } from "../../middleware/auth";
import { BEARER, IdParamSchema, json, jsonBody, problems } from "../../http/schemas";

const HolderSchema = z
  .object({ id: z.string(), name: z.string(), userId: z.string().nullable() })
  .openapi("RightsHolder");

const RightSchema = z
  .object({
    territory: z
      .string()
      .regex(/^(WW|[A-Z]{2})$/, "an ISO 3166-1 alpha-2 code, or WW for worldwide")
      .openapi({ example: "DE" }),
    type: z.enum(RIGHT_TYPES),
    holderId: z.string().max(64),
    share: z.number().gt(0).max(1).openapi({ description: "Share of royalties, 0 to 1." }),
    startsAt: z.iso.datetime().optional(),
    expiresAt: z.iso.datetime().optional(),
  })
  .strict();

const createHolder = createRoute({
  method: "post",
  path: "/",
  tags: ["rights"],
  summary: "Admin: create a rights holder",
  security: BEARER,
  request: {
    body: jsonBody(
      z
        .object({ name: z.string().trim().min(1).max(200), userId: z.string().max(64).optional() })
        .openapi("CreateRightsHolder"),
    ),
  },
  responses: { 201: json(HolderSchema, "Created"), ...problems(400, 401, 403) },
});

const listHolders = createRoute({
  method: "get",
  path: "/",
  tags: ["rights"],
  summary: "Admin: rights holders",
  security: BEARER,
  request: { query: PageQuerySchema },
  responses: { 200: json(pageSchema(HolderSchema), "Holders"), ...problems(400, 401, 403) },
});

export const rightsHolderRoutes = createRouter()
  .openapi(createHolder, async (c) => {
    requireRole(c.get("viewer"), "admin");
    return c.json(await c.get("services").rights.createHolder(c.req.valid("json")), 201);
  })
  .openapi(listHolders, async (c) => {
    requireRole(c.get("viewer"), "admin");
    return c.json(await c.get("services").rights.listHolders(c.req.valid("query")), 200);
  });

const putRights = createRoute({
  method: "put",
  path: "/{id}/rights",
  tags: ["rights"],
  summary: "Replace a track's rights (admins and the artist's account)",
  security: BEARER,
  request: {
    params: IdParamSchema,
    body: jsonBody(z.object({ rights: z.array(RightSchema).max(500) }).openapi("TrackRights")),
  },
  responses: {
    200: json(
      z.object({ rights: z.array(RightSchema.extend({ id: z.string() })) }),
      "The rights now",
    ),
    ...problems(400, 401, 403, 404, 422, 503),
  },
});

const getRights = createRoute({
  method: "get",
  path: "/{id}/rights",
  tags: ["rights"],
  summary: "A track's rights (admins and the artist's account)",
  security: BEARER,
  request: { params: IdParamSchema },
  responses: {
    200: json(z.object({ rights: z.array(RightSchema.extend({ id: z.string() })) }), "Rights"),
    ...problems(401, 403, 404),
  },
});

export const trackRightsRoutes = createRouter()
  .openapi(putRights, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    const services = c.get("services");
    const trackId = c.req.valid("param").id;
    const rights = await services.rights.setTrackRights(
      viewer,
      trackId,
      c.req.valid("json").rights,
    );
    // Listeners whose territory lost its right stop at the gate within its memo time.
    await services.revocations.settle(trackId);
    return c.json({ rights }, 200);
  })
  .openapi(getRights, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(
      { rights: await c.get("services").rights.getTrackRights(viewer, c.req.valid("param").id) },
      200,
    );
  });
