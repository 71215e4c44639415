import { and, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { stripeEvents, subscriptions, users } from "@edge-music/core/db/schema";
import { planMaxRank, RENDITIONS } from "@edge-music/core/renditions";
import type { Viewer } from "../../app-env";
import type { Config } from "../../lib/config";
import { runBatch, type Db, type Query } from "../../lib/db";
import { log } from "../../lib/log";
import { DomainError } from "@edge-music/core/api-errors";
import { verifyStripeSignature } from "../../lib/stripe-signature";
import { iso } from "../catalog/catalog-access";
import { DAY_MS } from "../../lib/time";
import {
  NO_SUBSCRIPTION,
  nextSubscriptionState,
  type BillingFact,
  type SubscriptionState,
} from "./subscription-state";
import { rowsOf, type PersonalData } from "../privacy/personal-data";

/** The parts of Stripe's event objects we read; everything else passes through untouched. */
const EventSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  /** Unix seconds: events arrive in any order, this says which is newer. */
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.looseObject({}) }),
});
const CheckoutSession = z.object({
  client_reference_id: z.string().nullish(),
  customer: z.string().nullish(),
  subscription: z.string().nullish(),
  /** `unpaid` until an asynchronous payment (a bank debit) clears. */
  payment_status: z.enum(["paid", "unpaid", "no_payment_required"]).nullish(),
});
const Subscription = z.object({
  id: z.string(),
  customer: z.string().nullish(),
  /** Absent on some deletions: a deleted subscription is cancelled whatever it said. */
  status: z.string().optional(),
  current_period_end: z.number().nullish(),
  // Only the one key we set; other metadata is never looked up.
  metadata: z.object({ userId: z.string().optional() }).nullish(),
});
const Invoice = z.object({ subscription: z.string().nullish(), customer: z.string().nullish() });

/** The Stripe API version our requests and the event shapes above are written against. */
const STRIPE_API_VERSION = "2024-06-20";

const notConfigured = () =>
  new DomainError("BILLING_NOT_CONFIGURED", "Payments are not set up on this server.");
const providerError = (detail: string) => new DomainError("PAYMENT_PROVIDER_ERROR", detail);

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
      throw new DomainError("ALREADY_SUBSCRIBED", "This account already has Premium.");
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
   * For an account being erased: deletes its Stripe customer, which also cancels any
   * subscription at once (DELETE /v1/customers/:id), so Stripe keeps neither the person nor a
   * way to charge them. Without a customer id a live subscription is cancelled instead.
   * Throws, changing nothing, when Stripe does not confirm.
   */
  async eraseCustomer(userId: string): Promise<void> {
    const row = await this.db
      .select({
        customer: subscriptions.stripeCustomerId,
        subscription: subscriptions.stripeSubscriptionId,
        status: subscriptions.status,
      })
      .from(subscriptions)
      .where(eq(subscriptions.userId, userId))
      .get();
    const path = row?.customer
      ? `/v1/customers/${encodeURIComponent(row.customer)}`
      : row?.subscription && row.status !== "canceled"
        ? `/v1/subscriptions/${encodeURIComponent(row.subscription)}`
        : null;
    if (!path) return;
    const res = await this.stripe(path, { method: "DELETE" });
    // Already gone at Stripe (404) is as good as deleted.
    if (!res.ok && res.status !== 404) {
      log("warn", "stripe erasure failed", { status: res.status });
      throw providerError(
        "The payment provider did not confirm deleting your billing details; nothing was erased. Try again later.",
      );
    }
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
      throw new DomainError(
        "INVALID_SIGNATURE",
        `Stripe-Signature did not verify (${check.reason}).`,
      );
    }
    let event: z.infer<typeof EventSchema>;
    try {
      event = EventSchema.parse(JSON.parse(rawBody));
    } catch {
      throw new DomainError("INVALID_EVENT", "The event is not a Stripe event object.");
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

  /** The queries that apply one event, given the account's subscription as it stands. */
  private async changesFor(event: z.infer<typeof EventSchema>, now: number): Promise<Query[]> {
    const found = await this.factOf(event);
    if (!found) return [];
    const { userId, fact } = found;
    const next = nextSubscriptionState(
      await this.stateOf(userId),
      fact,
      event.created,
      now,
      this.config.billing.graceDays * DAY_MS,
    );
    return next ? this.setPlan(userId, next.plan, toRow(next), now) : [];
  }

  /** Whose account an event is about, and what it says; null for events we do not act on. */
  private async factOf(
    event: z.infer<typeof EventSchema>,
  ): Promise<{ userId: string; fact: BillingFact } | null> {
    switch (event.type) {
      case "checkout.session.completed": {
        const session = parsed(CheckoutSession, event);
        if (!session) return null;
        const userId = session.client_reference_id;
        if (!userId || !(await this.userExists(userId))) return null;
        const paid = session.payment_status !== "unpaid";
        return {
          userId,
          fact: {
            kind: "checkout_completed",
            subscriptionId: session.subscription ?? null,
            customerId: session.customer ?? null,
            paid,
          },
        };
      }
      case "customer.subscription.updated":
      case "customer.subscription.deleted": {
        const sub = parsed(Subscription, event);
        const deleted = event.type === "customer.subscription.deleted";
        if (!sub || (!deleted && !sub.status)) return null;
        const userId = await this.userFor(sub.id, sub.customer, sub.metadata?.userId);
        if (!userId) return null;
        return {
          userId,
          fact: {
            kind: "subscription_changed",
            subscriptionId: sub.id,
            customerId: sub.customer ?? null,
            status: deleted ? "canceled" : (sub.status ?? "canceled"),
            currentPeriodEnd: sub.current_period_end ? sub.current_period_end * 1000 : null,
          },
        };
      }
      case "invoice.payment_failed": {
        const invoice = parsed(Invoice, event);
        if (!invoice) return null;
        const userId = await this.userFor(invoice.subscription, invoice.customer, undefined);
        if (!userId) return null;
        return {
          userId,
          fact: { kind: "payment_failed", subscriptionId: invoice.subscription ?? null },
        };
      }
      default:
        return null;
    }
  }

  private async stateOf(userId: string): Promise<SubscriptionState> {
    const row = await this.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.userId, userId))
      .get();
    if (!row) return NO_SUBSCRIPTION;
    return {
      plan: row.plan,
      status: row.status,
      subscriptionId: row.stripeSubscriptionId,
      customerId: row.stripeCustomerId,
      currentPeriodEnd: row.currentPeriodEnd,
      graceUntil: row.graceUntil,
      eventAt: row.stripeEventAt,
    };
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

/**
 * The event's object in the shape we read, or null: a signed event we cannot read is recorded
 * and ignored (answering an error would only make Stripe send it again for days).
 */
function parsed<T>(schema: z.ZodType<T>, event: z.infer<typeof EventSchema>): T | null {
  const result = schema.safeParse(event.data.object);
  if (result.success) return result.data;
  log("warn", "stripe event not understood", { eventId: event.id, type: event.type });
  return null;
}

function toRow(state: SubscriptionState): Partial<typeof subscriptions.$inferInsert> {
  return {
    status: state.status,
    stripeSubscriptionId: state.subscriptionId,
    stripeCustomerId: state.customerId,
    currentPeriodEnd: state.currentPeriodEnd,
    graceUntil: state.graceUntil,
    stripeEventAt: state.eventAt,
  };
}

export const SUBSCRIPTION_PERSONAL_DATA: PersonalData = {
  export: [{ name: "subscription", sql: rowsOf("subscriptions", "user_id") }],
};
