import { createRoute, z } from "@hono/zod-openapi";
import { log } from "../../lib/log";
import { createRouter } from "../../lib/router";
import { requireViewer } from "../../middleware/auth";
import { BEARER, json, problems } from "../../http/schemas";

const plans = createRoute({
  method: "get",
  path: "/plans",
  tags: ["subscriptions"],
  summary: "The plans: what each may play and download, and the price",
  responses: {
    200: json(
      z.object({
        items: z.array(
          z.object({
            id: z.string(),
            price: z.string().nullable(),
            renditions: z.array(z.string()),
            downloads: z.boolean(),
          }),
        ),
      }),
      "Plans",
    ),
  },
});

const checkout = createRoute({
  method: "post",
  path: "/subscriptions/checkout",
  tags: ["subscriptions"],
  summary: "Start Premium: a Stripe Checkout Session to send the browser to",
  security: BEARER,
  responses: {
    200: json(z.object({ id: z.string(), url: z.string() }), "The session"),
    ...problems(401, 409, 502, 503),
  },
});

const mine = createRoute({
  method: "get",
  path: "/me/subscription",
  tags: ["subscriptions"],
  summary: "The caller's plan and subscription status",
  security: BEARER,
  responses: {
    200: json(
      z.object({
        plan: z.string(),
        status: z.string(),
        currentPeriodEnd: z.string().nullable(),
        graceUntil: z.string().nullable(),
      }),
      "Subscription",
    ),
    ...problems(401),
  },
});

const webhook = createRoute({
  method: "post",
  path: "/webhooks/stripe",
  tags: ["subscriptions"],
  summary: "Stripe's webhook (signed with Stripe-Signature)",
  responses: {
    200: json(z.object({ received: z.boolean(), outcome: z.string() }), "Taken"),
    ...problems(400, 503),
  },
});

export const subscriptionRoutes = createRouter()
  .openapi(plans, (c) => c.json({ items: c.get("services").subscriptions.plans() }, 200))
  .openapi(checkout, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").subscriptions.checkout(viewer), 200);
  })
  .openapi(mine, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").subscriptions.mine(viewer), 200);
  })
  .openapi(webhook, async (c) => {
    // The signature covers the exact bytes, so the body is read raw, never re-serialized.
    const result = await c
      .get("services")
      .subscriptions.applyWebhook(await c.req.text(), c.req.header("Stripe-Signature") ?? null);
    log("info", "stripe webhook", { requestId: c.get("requestId"), ...result });
    return c.json({ received: true, outcome: result.outcome }, 200);
  });
