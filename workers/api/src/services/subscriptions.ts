import { and, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { stripeEvents, subscriptions, users } from "@edge-music/core/db/schema";
import { planMaxRank, RENDITIONS } from "@edge-music/core/renditions";
import type { Viewer } from "../app-env";
import type { Config } from "../lib/config";
import { runBatch, type Db, type Query } from "../lib/db";
import { log } from "../lib/log";
import { ApiError } from "../lib/problem";
import { verifyStripeSignature } from "../lib/stripe-signature";
import { iso } from "./catalog-access";
import { DAY_MS } from "../lib/time";

/** Stripe statuses in which the subscriber keeps Premium (past_due: during the grace period). */
const PAID_STATUSES = new Set(["active", "trialing", "past_due"]);

/** The parts of Stripe's event objects we read; everything else passes through untouched. */
const EventSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});
const CheckoutSession = z.object({
  client_reference_id: z.string().nullish(),
  customer: z.string().nullish(),
  subscription: z.string().nullish(),
});
const Subscription = z.object({
  id: z.string(),
  customer: z.string().nullish(),
  status: z.string(),
  current_period_end: z.number().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});
const Invoice = z.object({ subscription: z.string().nullish(), customer: z.string().nullish() });

/** The Stripe API version our requests and the event shapes above are written against. */
const STRIPE_API_VERSION = "2024-06-20";

const notConfigured = () =>
  new ApiError(503, "BILLING_NOT_CONFIGURED", "Payments are not set up on this server.");
const providerError = (detail: string) => new ApiError(502, "PAYMENT_PROVIDER_ERROR", detail);

/** Plans, Stripe Checkout, Stripe's webhooks, and the plan they leave on the account. */
export class SubscriptionService {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
  ) {}

  plans() {
    const renditionOf = (plan: string) =>
      RENDITIONS.filter((r) => r.rank <= planMaxRank(plan)).map((r) => r.id);
    return [
      { id: "free", price: null, renditions: renditionOf("free"), downloads: false },
      {
        id: "premium",
        price: this.config.billing.premiumPriceLabel,
        renditions: renditionOf("premium"),
        downloads: true,
      },
    ];
  }

  /** A Stripe Checkout Session for Premium; the caller is sent to its `url`. */
  async checkout(viewer: Viewer): Promise<{ id: string; url: string }> {
    const { secretKey, premiumPriceId, appOrigin } = this.config.billing;
    if (!secretKey) throw notConfigured();
    if (viewer.plan === "premium") {
      throw new ApiError(409, "ALREADY_SUBSCRIBED", "This account already has Premium.");
    }
    const existing = await this.db
      .select({ customer: subscriptions.stripeCustomerId })
      .from(subscriptions)
      .where(eq(subscriptions.userId, viewer.id))
      .get();
    const form = new URLSearchParams({
      mode: "subscription",
      "line_items[0][price]": premiumPriceId,
      "line_items[0][quantity]": "1",
      client_reference_id: viewer.id,
      "subscription_data[metadata][userId]": viewer.id,
      success_url: `${appOrigin}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${appOrigin}/?checkout=cancelled`,
    });
    if (existing?.customer) form.set("customer", existing.customer);
    else form.set("customer_email", viewer.email);
    const res = await this.stripe("/v1/checkout/sessions", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        // One session per user and minute, however often the button is pressed.
        "Idempotency-Key": `checkout-${viewer.id}-${Math.floor(Date.now() / 60_000)}`,
      },
      body: form,
    });
    const body: unknown = await res.json().catch(() => null);
    const session = z.object({ id: z.string(), url: z.string() }).safeParse(body);
    if (!res.ok || !session.success) {
      log("warn", "stripe checkout failed", { status: res.status, userId: viewer.id });
      throw providerError("The payment provider did not answer as expected.");
    }
    return session.data;
  }

  /**
   * Cancels the user's Stripe subscription at once (an account being erased must not be
   * charged again). Throws, changing nothing, when Stripe does not confirm.
   */
  async cancelNow(userId: string): Promise<boolean> {
    const row = await this.db
      .select({ id: subscriptions.stripeSubscriptionId, status: subscriptions.status })
      .from(subscriptions)
      .where(eq(subscriptions.userId, userId))
      .get();
    if (!row?.id || row.status === "canceled") return false;
    const res = await this.stripe(`/v1/subscriptions/${encodeURIComponent(row.id)}`, {
      method: "DELETE",
    });
    // Already gone at Stripe (404) is as good as cancelled.
    if (!res.ok && res.status !== 404) {
      log("warn", "stripe cancel failed", { status: res.status, userId });
      throw providerError(
        "The subscription could not be cancelled with the payment provider; nothing was erased. Try again later.",
      );
    }
    return true;
  }

  /**
   * Applies one webhook delivery: verified signature, then once per event id. Returns what
   * happened, for the log and the answer to Stripe.
   */
  async applyWebhook(
    rawBody: string,
    signatureHeader: string | null,
    now = Date.now(),
  ): Promise<{ eventId: string; type: string; outcome: "applied" | "duplicate" | "ignored" }> {
    const secret = this.config.billing.webhookSecret;
    if (!secret) throw notConfigured();
    const check = await verifyStripeSignature(
      signatureHeader,
      rawBody,
      secret,
      Math.floor(now / 1000),
    );
    if (!check.ok) {
      throw new ApiError(
        400,
        "INVALID_SIGNATURE",
        `Stripe-Signature did not verify (${check.reason}).`,
      );
    }
    let event: z.infer<typeof EventSchema>;
    try {
      event = EventSchema.parse(JSON.parse(rawBody));
    } catch {
      throw new ApiError(400, "INVALID_EVENT", "The event is not a Stripe event object.");
    }
    const seen = await this.db
      .select({ id: stripeEvents.id })
      .from(stripeEvents)
      .where(eq(stripeEvents.id, event.id))
      .get();
    if (seen) return { eventId: event.id, type: event.type, outcome: "duplicate" };
    const changes = await this.changesFor(event, now);
    // The event id goes in with its changes: a retry after a failure applies them again, a
    // redelivery after success finds the id and does nothing.
    await runBatch(this.db, [
      this.db
        .insert(stripeEvents)
        .values({ id: event.id, type: event.type, receivedAt: now })
        .onConflictDoNothing(),
      ...changes,
    ]);
    return { eventId: event.id, type: event.type, outcome: changes.length ? "applied" : "ignored" };
  }

  async mine(viewer: Viewer) {
    const row = await this.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.userId, viewer.id))
      .get();
    return {
      plan: viewer.plan,
      status: row?.status ?? "none",
      currentPeriodEnd: row?.currentPeriodEnd ? iso(row.currentPeriodEnd) : null,
      graceUntil: row?.graceUntil ? iso(row.graceUntil) : null,
    };
  }

  /** Cron: accounts whose grace after a failed payment ran out go back to Free. */
  async endExpiredGrace(now = Date.now()): Promise<number> {
    const expired = await this.db
      .select({ userId: subscriptions.userId })
      .from(subscriptions)
      .where(and(eq(subscriptions.status, "past_due"), lt(subscriptions.graceUntil, now)));
    // Bounded by the accounts that lapsed since yesterday's run: one batch is enough.
    await runBatch(
      this.db,
      expired.flatMap(({ userId }) =>
        this.setPlan(userId, "free", { status: "unpaid", graceUntil: null }, now),
      ),
    );
    return expired.length;
  }

  /** A request to Stripe's API with the secret key and the pinned API version. */
  private stripe(path: string, init: { method: string; headers?: HeadersInit; body?: BodyInit }) {
    const { secretKey, stripeApiBase } = this.config.billing;
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${secretKey}`);
    headers.set("Stripe-Version", STRIPE_API_VERSION);
    return fetch(`${stripeApiBase}${path}`, { ...init, headers });
  }

  private async changesFor(event: z.infer<typeof EventSchema>, now: number): Promise<Query[]> {
    const object = event.data.object;
    switch (event.type) {
      case "checkout.session.completed": {
        const session = CheckoutSession.parse(object);
        const userId = session.client_reference_id;
        if (!userId || !(await this.userExists(userId))) return [];
        return this.setPlan(
          userId,
          "premium",
          {
            status: "active",
            stripeCustomerId: session.customer ?? null,
            stripeSubscriptionId: session.subscription ?? null,
            graceUntil: null,
          },
          now,
        );
      }
      case "customer.subscription.updated":
      case "customer.subscription.deleted": {
        const sub = Subscription.parse(object);
        const userId = await this.userFor(sub.id, sub.customer, sub.metadata?.["userId"]);
        if (!userId) return [];
        const status = event.type === "customer.subscription.deleted" ? "canceled" : sub.status;
        const paid = PAID_STATUSES.has(status);
        return this.setPlan(
          userId,
          paid ? "premium" : "free",
          {
            status,
            stripeSubscriptionId: sub.id,
            currentPeriodEnd: sub.current_period_end ? sub.current_period_end * 1000 : null,
            ...(status === "past_due" ? {} : { graceUntil: null }),
          },
          now,
        );
      }
      case "invoice.payment_failed": {
        const invoice = Invoice.parse(object);
        const userId = await this.userFor(invoice.subscription, invoice.customer, undefined);
        if (!userId) return [];
        // Premium stays for the grace period; the cron ends it if nothing is paid by then.
        return this.setPlan(
          userId,
          "premium",
          { status: "past_due", graceUntil: now + this.config.billing.graceDays * DAY_MS },
          now,
        );
      }
      default:
        return [];
    }
  }

  /** Upserts the subscription row and sets the account's plan, as one batch's queries. */
  private setPlan(
    userId: string,
    plan: "free" | "premium",
    fields: Partial<typeof subscriptions.$inferInsert>,
    now: number,
  ): Query[] {
    return [
      this.db
        .insert(subscriptions)
        .values({ userId, plan, status: "none", ...fields, updatedAt: now })
        .onConflictDoUpdate({
          target: subscriptions.userId,
          set: { plan, ...fields, updatedAt: now },
        }),
      this.db.update(users).set({ plan, updatedAt: now }).where(eq(users.id, userId)),
    ];
  }

  private async userExists(userId: string): Promise<boolean> {
    return !!(await this.db.select({ id: users.id }).from(users).where(eq(users.id, userId)).get());
  }

  /** The account behind a Stripe subscription or customer (or the id we put in its metadata). */
  private async userFor(
    subscriptionId: string | null | undefined,
    customerId: string | null | undefined,
    metadataUserId: string | undefined,
  ): Promise<string | null> {
    for (const [column, value] of [
      [subscriptions.stripeSubscriptionId, subscriptionId],
      [subscriptions.stripeCustomerId, customerId],
    ] as const) {
      if (!value) continue;
      const row = await this.db
        .select({ userId: subscriptions.userId })
        .from(subscriptions)
        .where(eq(column, value))
        .get();
      if (row) return row.userId;
    }
    if (metadataUserId && (await this.userExists(metadataUserId))) return metadataUserId;
    return null;
  }
}
