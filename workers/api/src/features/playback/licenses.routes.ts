import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../lib/router";
import { territoryOf } from "../../lib/territory";
import { requireViewer } from "../../middleware/auth";
import { enforceRateLimits } from "../../middleware/rate-limit";
import { BEARER, json, jsonBody, problems } from "../../http/schemas";

const KID = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/)
  .openapi({ example: "ABEiM0RVZneImaq7zN3u_w" });

const clearKey = createRoute({
  method: "post",
  path: "/clearkey",
  tags: ["playback"],
  summary: "W3C ClearKey license: the key of a playback grant's asset, for its listener",
  description:
    "The EME `keyids` message of a ClearKey session. Send the playback grant's token in " +
    "`X-Playback-Token` and the listener's access token as usual. Answers a JSON Web Key " +
    "set, never cached; each license is recorded.",
  security: BEARER,
  request: {
    headers: z.object({ "x-playback-token": z.string().max(2048).optional() }),
    body: jsonBody(
      z
        .object({
          kids: z.array(KID).min(1).max(8),
          type: z.enum(["temporary", "persistent-license"]).optional(),
        })
        .openapi("ClearKeyRequest"),
    ),
  },
  responses: {
    200: json(
      z
        .object({
          keys: z.array(z.object({ kty: z.literal("oct"), kid: z.string(), k: z.string() })),
          type: z.literal("temporary"),
        })
        .openapi("ClearKeyLicense"),
      "The keys",
    ),
    ...problems(400, 401, 403, 404, 409, 429, 451),
  },
});

export const licenseRoutes = createRouter().openapi(clearKey, async (c) => {
  const viewer = requireViewer(c.get("viewer"));
  await enforceRateLimits([{ limiter: c.env.LICENSE_LIMITER, key: viewer.id }], "licenses");
  const license = await c
    .get("services")
    .licenses.license(
      viewer,
      c.req.valid("header")["x-playback-token"] ?? null,
      c.req.valid("json").kids,
      territoryOf(c.req.raw, c.env),
    );
  return c.json(license, 200, { "Cache-Control": "no-store" });
});
