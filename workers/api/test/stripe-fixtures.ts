import { env } from "cloudflare:test";
import { expect } from "vitest";
import { stripeSignatureHeader } from "../src/lib/stripe-signature";
import { call, callJson, type Account } from "./helpers";

/** The webhook secret of the test config; events signed with it verify. */
export const SECRET = env.STRIPE_WEBHOOK_SECRET ?? "";

let eventCounter = 0;
/** A Stripe event; `created` (Unix seconds) defaults to now. */
export function event(
  type: string,
  object: Record<string, unknown>,
  id = `evt_${eventCounter++}_${Date.now()}`,
  created = Math.floor(Date.now() / 1000),
) {
  return JSON.stringify({ id, object: "event", type, created, data: { object } });
}

/** Posts a webhook as Stripe does, signed unless `header` says otherwise (null: unsigned). */
export async function deliver(body: string, header?: string | null) {
  const signature = header === undefined ? await stripeSignatureHeader(body, SECRET) : header;
  return call("POST", "/v1/webhooks/stripe", {
    headers: {
      "Content-Type": "application/json",
      ...(signature ? { "Stripe-Signature": signature } : {}),
    },
    body: JSON.parse(body) as unknown,
  });
}

/** The account's subscription as `GET /v1/me/subscription` shows it. */
export const subscriptionOf = (who: Account) =>
  callJson<{
    plan: string;
    status: string;
    graceUntil: string | null;
    currentPeriodEnd: string | null;
  }>("GET", "/v1/me/subscription", 200, { token: who.accessToken });

/** Subscribes an account through a checkout.session.completed event. */
export async function subscribe(who: Account, sub = `sub_${who.id}`, customer = `cus_${who.id}`) {
  const res = await deliver(
    event("checkout.session.completed", {
      object: "checkout.session",
      client_reference_id: who.id,
      customer,
      subscription: sub,
    }),
  );
  expect(res.status).toBe(200);
  return { sub, customer };
}
