import { createRoute, z } from "@hono/zod-openapi";
import { ROLES } from "@edge-music/core/db/schema";
import { createRouter } from "../../lib/router";
import { setPlanRoute } from "../playback/playback.routes";
import { requireRole } from "../../middleware/auth";
import { BEARER, IdParamSchema, UserSchema, json, jsonBody, problems } from "../../http/schemas";

const setRole = createRoute({
  method: "put",
  path: "/{id}/role",
  tags: ["admin"],
  summary: "Admin: set an account's role (listener, artist, admin)",
  security: BEARER,
  request: {
    params: IdParamSchema,
    body: jsonBody(z.object({ role: z.enum(ROLES) }).openapi("SetRoleRequest")),
  },
  responses: { 200: json(UserSchema, "Updated account"), ...problems(400, 401, 403, 404) },
});

export const userRoutes = createRouter()
  .openapi(setRole, async (c) => {
    requireRole(c.get("viewer"), "admin");
    const user = await c
      .get("services")
      .auth.setRole(c.req.valid("param").id, c.req.valid("json").role);
    return c.json(user, 200);
  })
  .openapi(setPlanRoute, async (c) => {
    requireRole(c.get("viewer"), "admin");
    const user = await c
      .get("services")
      .playback.setPlan(c.req.valid("param").id, c.req.valid("json").plan);
    return c.json(user, 200);
  });
