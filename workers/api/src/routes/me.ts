import { createRoute } from "@hono/zod-openapi";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { createRouter } from "../lib/router";
import { requireViewer } from "../middleware/auth";
import { BEARER, IdParamSchema, SessionSchema, UserSchema, json, problems } from "./schemas";

const me = createRoute({
  method: "get",
  path: "/",
  tags: ["account"],
  summary: "The signed-in account",
  security: BEARER,
  responses: { 200: json(UserSchema, "The account"), ...problems(401) },
});

const listSessions = createRoute({
  method: "get",
  path: "/sessions",
  tags: ["account"],
  summary: "Active device sessions, newest first",
  security: BEARER,
  request: { query: PageQuerySchema },
  responses: { 200: json(pageSchema(SessionSchema), "Sessions"), ...problems(400, 401) },
});

const revokeSession = createRoute({
  method: "delete",
  path: "/sessions/{id}",
  tags: ["account"],
  summary: "Sign out one device session at once",
  security: BEARER,
  request: { params: IdParamSchema },
  responses: { 204: { description: "Revoked" }, ...problems(401, 404) },
});

export const meRoutes = createRouter()
  .openapi(me, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").auth.me(viewer), 200);
  })
  .openapi(listSessions, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").auth.listSessions(viewer, c.req.valid("query")), 200);
  })
  .openapi(revokeSession, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    await c.get("services").auth.revokeSession(viewer, c.req.valid("param").id);
    return c.body(null, 204);
  });
