import type { Plan } from "@edge-music/core/renditions";

/** A subscription as we keep it: the plan playback obeys, and why. */
export type SubscriptionState = {
  plan: Plan;
  status: string;
  subscriptionId: string | null;
  customerId: string | null;
  currentPeriodEnd: number | null;
  graceUntil: number | null;
  /** `created` (Unix seconds) of the newest Stripe event applied: older ones change nothing. */
  eventAt: number | null;
};

/** What a Stripe event says, reduced to what decides the plan. */
export type BillingFact =
  | {
      kind: "checkout_completed";
      subscriptionId: string | null;
      customerId: string | null;
      paid: boolean;
    }
  | {
      kind: "subscription_changed";
      subscriptionId: string;
      customerId: string | null;
      status: string;
      currentPeriodEnd: number | null;
    }
  | { kind: "payment_failed"; subscriptionId: string | null };

/** Stripe statuses in which a subscription has been paid for. */
const PAID = new Set(["active", "trialing"]);

export const NO_SUBSCRIPTION: SubscriptionState = {
  plan: "free",
  status: "none",
  subscriptionId: null,
  customerId: null,
  currentPeriodEnd: null,
  graceUntil: null,
  eventAt: null,
};

/**
 * The state after a Stripe event, or null when the event must change nothing. Stripe sends
 * events at least once and in no particular order, so:
 * - an event older than the newest one applied is stale (a late `active` after a cancellation);
 * - a cancelled subscription stays cancelled (only a new subscription brings Premium back);
 * - while a subscription is live, events about another one do not touch it;
 * - a failed payment never grants Premium: it only keeps Premium that was paid for, for a
 *   grace period that a further failure does not extend.
 */
export function nextSubscriptionState(
  current: SubscriptionState,
  fact: BillingFact,
  createdSeconds: number,
  now: number,
  graceMs: number,
): SubscriptionState | null {
  if (current.eventAt !== null && createdSeconds < current.eventAt) return null;
  const sameSubscription =
    fact.subscriptionId !== null && fact.subscriptionId === current.subscriptionId;
  if (sameSubscription && current.status === "canceled") return null;
  const liveOther =
    current.subscriptionId !== null &&
    current.status !== "canceled" &&
    fact.subscriptionId !== null &&
    !sameSubscription;
  const stamped = { eventAt: Math.max(createdSeconds, current.eventAt ?? 0) };
  const keepPaid = (): Pick<SubscriptionState, "plan" | "graceUntil"> =>
    current.plan === "premium"
      ? { plan: "premium", graceUntil: current.graceUntil ?? now + graceMs }
      : { plan: "free", graceUntil: null };

  switch (fact.kind) {
    case "checkout_completed":
      if (liveOther && current.plan === "premium") return null;
      return {
        ...current,
        ...stamped,
        subscriptionId: fact.subscriptionId ?? current.subscriptionId,
        customerId: fact.customerId ?? current.customerId,
        // Checkout can complete before an asynchronous payment clears: Premium waits for it.
        ...(fact.paid
          ? { plan: "premium", status: "active", graceUntil: null }
          : { plan: current.plan, status: "incomplete" }),
      };
    case "subscription_changed": {
      if (liveOther) return null;
      const base = {
        ...current,
        ...stamped,
        subscriptionId: fact.subscriptionId,
        customerId: fact.customerId ?? current.customerId,
        currentPeriodEnd: fact.currentPeriodEnd ?? current.currentPeriodEnd,
        status: fact.status,
      };
      if (PAID.has(fact.status)) return { ...base, plan: "premium", graceUntil: null };
      if (fact.status === "past_due") return { ...base, ...keepPaid() };
      return { ...base, plan: "free", graceUntil: null };
    }
    case "payment_failed":
      if (!sameSubscription || current.plan !== "premium") return null;
      return { ...current, ...stamped, status: "past_due", ...keepPaid() };
  }
}
