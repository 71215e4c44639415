import { createRoute, z } from "@hono/zod-openapi";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { requireViewer } from "../../middleware/auth";
import { enforceRateLimits } from "../../middleware/rate-limit";
import {
  BEARER,
  IdParamSchema,
  SessionSchema,
  UserSchema,
  json,
  problems,
} from "../../http/schemas";

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

const exportData = createRoute({
  method: "get",
  path: "/export",
  tags: ["account"],
  summary: "Everything stored about the caller, as one JSON download",
  description:
    "Profile, device sessions, subscription, playlists and their items, likes, listening " +
    "history, playback grants, uploads, own tracks and artists, linked rights holders. " +
    "Secrets (password and token hashes) are left out. Streamed: history can be long.",
  security: BEARER,
  responses: {
    200: {
      description: "The export",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
    ...problems(401, 429),
  },
});

const erase = createRoute({
  method: "delete",
  path: "/",
  tags: ["account"],
  summary: "Erase the account (asks for the password)",
  description:
    "Cancels a paid subscription, signs out every device at once, deletes every personal row " +
    "and the caller's uploads and tracks with their stored audio, and keeps listening history " +
    "only without the user, so royalty totals do not change. Cannot be undone.",
  security: BEARER,
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: z.object({ password: z.string().min(1).max(1024) }) },
      },
    },
  },
  responses: { 204: { description: "Erased" }, ...problems(400, 401, 403, 429, 502) },
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
  })
  .openapi(erase, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    // The password check is a login attempt: the same brake applies.
    await enforceRateLimits([{ limiter: c.env.AUTH_ACCOUNT_LIMITER, key: viewer.id }]);
    await c.get("services").privacy.erase(viewer, c.req.valid("json").password);
    return c.body(null, 204);
  });

/** A streamed body is not a typed JSON response: registered for the document, served plainly. */
export const exportRoutes = createRouter();
exportRoutes.openAPIRegistry.registerPath(exportData);
exportRoutes.get("/export", async (c) => {
  const viewer = requireViewer(c.get("viewer"));
  await enforceRateLimits([{ limiter: c.env.AUTH_ACCOUNT_LIMITER, key: `export:${viewer.id}` }]);
  const body = await c.get("services").privacy.export(viewer);
  const day = new Date().toISOString().slice(0, 10);
  return c.body(body, 200, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Disposition": `attachment; filename="edge-music-export-${day}.json"`,
    "Cache-Control": "no-store",
  });
});
