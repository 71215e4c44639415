import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../lib/router";
import { requireRole } from "../../middleware/auth";
import { BEARER, json, problems } from "../../http/schemas";

const StatusSchema = z
  .object({
    clear: z.number().int().openapi({ description: "Published tracks whose media is clear." }),
    encrypted: z.number().int(),
  })
  .openapi("RepackageStatus");

const start = createRoute({
  method: "post",
  path: "/",
  tags: ["admin"],
  summary: "Admin: queue published tracks with clear media for re-packaging as encrypted",
  security: BEARER,
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.object({ limit: z.number().int().min(1).max(10_000).optional() }),
        },
      },
    },
  },
  responses: {
    202: json(StatusSchema.extend({ queued: z.number().int() }), "Queued"),
    ...problems(401, 403, 409),
  },
});

const status = createRoute({
  method: "get",
  path: "/",
  tags: ["admin"],
  summary: "Admin: how much of the catalog is still clear",
  security: BEARER,
  responses: { 200: json(StatusSchema, "Counts"), ...problems(401, 403) },
});

export const repackageRoutes = createRouter()
  .openapi(start, async (c) => {
    requireRole(c.get("viewer"), "admin");
    const body = c.req.valid("json") as { limit?: number } | undefined;
    return c.json(await c.get("services").repackage.enqueue(body?.limit ?? 1000), 202);
  })
  .openapi(status, async (c) => {
    requireRole(c.get("viewer"), "admin");
    return c.json(await c.get("services").repackage.status(), 200);
  });
