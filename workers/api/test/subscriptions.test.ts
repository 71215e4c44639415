import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { stripeSignatureHeader } from "../src/lib/stripe-signature";
import { SECRET, deliver, event, subscribe, subscriptionOf } from "./stripe-fixtures";
import { createArtist, createTrack, makeReady, openWorldwide } from "./catalog-fixtures";
import { accountWithRole, call, callJson, expectProblem, register, runCron } from "./helpers";

type Recorded = { method: string; path: string; headers: Record<string, string>; body: string };

describe("plans and checkout", () => {
  it("lists what each plan may play", async () => {
    const plans = await callJson<{
      items: { id: string; renditions: string[]; downloads: boolean }[];
    }>("GET", "/v1/plans", 200);
    expect(plans.items).toEqual([
      expect.objectContaining({
        id: "free",
        renditions: ["aac_64", "aac_128"],
        downloads: false,
        price: null,
      }),
      expect.objectContaining({
        id: "premium",
        renditions: ["aac_64", "aac_128", "aac_256", "flac"],
        downloads: true,
        price: env.PREMIUM_PRICE_LABEL,
      }),
    ]);
  });

  it("creates a Stripe Checkout Session with exactly what Stripe needs", async () => {
    const fan = await accountWithRole("listener");
    const session = await callJson<{ id: string; url: string }>(
      "POST",
      "/v1/subscriptions/checkout",
      200,
      {
        token: fan.accessToken,
      },
    );
    expect(session.url).toBe(`https://checkout.stripe.com/c/pay/${session.id}`);
    const recorded = (await (
      await fetch(`${env.STRIPE_API_BASE}/__recorded`)
    ).json()) as Recorded[];
    const sent = recorded.findLast((r) => r.body.includes(encodeURIComponent(fan.id)));
    expect(sent).toMatchObject({ method: "POST", path: "/v1/checkout/sessions" });
    expect(sent?.headers["authorization"]).toBe(`Bearer ${env.STRIPE_SECRET_KEY}`);
    expect(sent?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(sent?.headers["idempotency-key"]).toMatch(new RegExp(`^checkout-${fan.id}-\\d+$`));
    const form = Object.fromEntries(new URLSearchParams(sent?.body));
    expect(form).toEqual({
      mode: "subscription",
      "line_items[0][price]": env.STRIPE_PREMIUM_PRICE_ID,
      "line_items[0][quantity]": "1",
      client_reference_id: fan.id,
      "subscription_data[metadata][userId]": fan.id,
      customer_email: fan.email,
      success_url: `${env.APP_ORIGIN}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${env.APP_ORIGIN}/?checkout=cancelled`,
    });
    // Nothing secret in what the client gets back.
    expect(JSON.stringify(session)).not.toContain(env.STRIPE_SECRET_KEY ?? "sk_");
  });

  it("refuses strangers, subscribers, and reports a provider failure as 502", async () => {
    await expectProblem(await call("POST", "/v1/subscriptions/checkout"), 401);
    const paying = await accountWithRole("listener");
    await subscribe(paying);
    await expectProblem(
      await call("POST", "/v1/subscriptions/checkout", { token: paying.accessToken }),
      409,
      "ALREADY_SUBSCRIBED",
    );
    const declined = await register(`buyer+declined-${Date.now()}@example.com`);
    await expectProblem(
      await call("POST", "/v1/subscriptions/checkout", { token: declined.accessToken }),
      502,
      "PAYMENT_PROVIDER_ERROR",
    );
  });
});

describe("Stripe webhooks", () => {
  it("verify Stripe-Signature: right secret, any of several v1, not stale, not missing", async () => {
    const fan = await accountWithRole("listener");
    const body = event("checkout.session.completed", {
      client_reference_id: fan.id,
      customer: "cus_x",
    });
    const good = await stripeSignatureHeader(body, SECRET);
    const wrong = await stripeSignatureHeader(body, "whsec_someone_else");
    await expectProblem(await deliver(body, wrong), 400, "INVALID_SIGNATURE");
    const stale = await stripeSignatureHeader(body, SECRET, Math.floor(Date.now() / 1000) - 301);
    await expectProblem(await deliver(body, stale), 400, "INVALID_SIGNATURE");
    await expectProblem(await deliver(body, null), 400, "INVALID_SIGNATURE");
    await expectProblem(await deliver(body, "t=abc,v1=zz"), 400, "INVALID_SIGNATURE");
    // Tampered body, signature of the original.
    await expectProblem(
      await deliver(body.replace("cus_x", "cus_y"), good),
      400,
      "INVALID_SIGNATURE",
    );
    expect((await subscriptionOf(fan)).plan).toBe("free");
    // During a secret roll Stripe sends one v1 per secret: one matching is enough.
    const [, wrongV1] = wrong.split(",v1=");
    const rolled = `${good},v1=${wrongV1 ?? ""},v0=deadbeef`;
    expect((await deliver(body, rolled)).status).toBe(200);
    expect((await subscriptionOf(fan)).plan).toBe("premium");
  });

  it("apply each event once, and ignore types they do not handle", async () => {
    const fan = await accountWithRole("listener");
    const { sub } = await subscribe(fan);
    const cancel = event("customer.subscription.deleted", { id: sub, status: "canceled" });
    const first = await callJson<{ outcome: string }>("POST", "/v1/webhooks/stripe", 200, {
      headers: { "Stripe-Signature": await stripeSignatureHeader(cancel, SECRET) },
      body: JSON.parse(cancel) as unknown,
    });
    expect(first.outcome).toBe("applied");
    expect(await subscriptionOf(fan)).toMatchObject({ plan: "free", status: "canceled" });
    // Subscribing again makes a new subscription at Stripe.
    await subscribe(fan, `${sub}_again`);
    // The same cancellation delivered again (Stripe retries) must not cancel the new one.
    const replay = await callJson<{ outcome: string }>("POST", "/v1/webhooks/stripe", 200, {
      headers: { "Stripe-Signature": await stripeSignatureHeader(cancel, SECRET) },
      body: JSON.parse(cancel) as unknown,
    });
    expect(replay.outcome).toBe("duplicate");
    expect((await subscriptionOf(fan)).plan).toBe("premium");
    const unknown = event("customer.created", { id: "cus_new" });
    const ignored = await callJson<{ outcome: string }>("POST", "/v1/webhooks/stripe", 200, {
      headers: { "Stripe-Signature": await stripeSignatureHeader(unknown, SECRET) },
      body: JSON.parse(unknown) as unknown,
    });
    expect(ignored.outcome).toBe("ignored");
    const stored = await env.DB.prepare("SELECT type FROM stripe_events WHERE id = ?")
      .bind(JSON.parse(unknown).id)
      .first<{ type: string }>();
    expect(stored?.type).toBe("customer.created");
  });

  it("follow the subscription's life: updates, failed payment with grace, then lapse", async () => {
    const fan = await accountWithRole("listener");
    const { sub, customer } = await subscribe(fan);
    const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400;
    await deliver(
      event("customer.subscription.updated", {
        id: sub,
        customer,
        status: "active",
        current_period_end: periodEnd,
      }),
    );
    expect(await subscriptionOf(fan)).toMatchObject({
      plan: "premium",
      status: "active",
      currentPeriodEnd: new Date(periodEnd * 1000).toISOString(),
    });
    await deliver(event("invoice.payment_failed", { subscription: sub, customer }));
    const grace = await subscriptionOf(fan);
    expect(grace).toMatchObject({ plan: "premium", status: "past_due" });
    const graceMs = Date.parse(grace.graceUntil ?? "") - Date.now();
    expect(Math.round(graceMs / 86_400_000)).toBe(Number(env.PAYMENT_GRACE_DAYS));
    // The grace runs out: the daily cron puts the account back on Free.
    await env.DB.prepare("UPDATE subscriptions SET grace_until = ? WHERE user_id = ?")
      .bind(Date.now() - 1000, fan.id)
      .run();
    await runCron("17 3 * * *");
    expect(await subscriptionOf(fan)).toMatchObject({ plan: "free", status: "unpaid" });
    // Paid after all: Stripe says active again.
    await deliver(event("customer.subscription.updated", { id: sub, customer, status: "active" }));
    expect(await subscriptionOf(fan)).toMatchObject({
      plan: "premium",
      status: "active",
      graceUntil: null,
    });
  });

  it("set the plan that playback obeys", async () => {
    const artist = await accountWithRole("artist");
    const trackId = (await createTrack(artist, (await createArtist(artist, "Tier Band")).id)).id;
    await makeReady(trackId);
    await openWorldwide(trackId);
    const fan = await accountWithRole("listener");
    const renditions = async () =>
      (
        await callJson<{ renditions: { id: string }[] }>(
          "POST",
          `/v1/tracks/${trackId}/playback`,
          200,
          {
            token: fan.accessToken,
            body: {},
          },
        )
      ).renditions.map((r) => r.id);
    expect(await renditions()).toEqual(["aac_64", "aac_128"]);
    await subscribe(fan);
    expect(await renditions()).toEqual(["aac_64", "aac_128", "aac_256", "flac"]);
  });
});
