import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../lib/router";
import { requireRole } from "../../middleware/auth";
import { BEARER, json, problems } from "../../http/schemas";

const rewrap = createRoute({
  method: "post",
  path: "/content-keys/rewrap",
  tags: ["admin"],
  summary: "Admin: re-wrap stored content keys under the active KEK (repeat until none remain)",
  security: BEARER,
  responses: {
    200: json(
      z
        .object({ rewrapped: z.number().int(), remaining: z.number().int() })
        .openapi("RewrapResult"),
      "Re-wrapped",
    ),
    ...problems(401, 403),
  },
});

/** Key maintenance, for operators rotating the key-encryption key. */
export const contentKeyRoutes = createRouter().openapi(rewrap, async (c) => {
  requireRole(c.get("viewer"), "admin");
  return c.json(await c.get("services").contentKeys.rewrap(), 200);
});
