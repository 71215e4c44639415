import { describe, expect, it } from "vitest";
import { accountWithRole, callJson, runCron, type Account } from "./helpers";
import { deliver, event, subscribe, subscriptionOf } from "./stripe-fixtures";

const now = () => Math.floor(Date.now() / 1000);

/** Delivers an event created `ageSeconds` ago, as Stripe would when it arrives late. */
async function late(type: string, object: Record<string, unknown>, ageSeconds: number) {
  const res = await deliver(event(type, object, undefined, now() - ageSeconds));
  expect(res.status).toBe(200);
}

async function planOf(who: Account) {
  const me = await callJson<{ plan: string }>("GET", "/v1/me", 200, { token: who.accessToken });
  return me.plan;
}

describe("Stripe events out of order", () => {
  it("a late 'active' after the cancellation does not bring Premium back", async () => {
    const fan = await accountWithRole("listener");
    const { sub, customer } = await subscribe(fan);
    await late("customer.subscription.deleted", { id: sub, customer, status: "canceled" }, 0);
    // The update was made before the cancellation and arrives after it.
    await late("customer.subscription.updated", { id: sub, customer, status: "active" }, 60);
    expect(await subscriptionOf(fan)).toMatchObject({ plan: "free", status: "canceled" });
    expect(await planOf(fan)).toBe("free");
  });

  it("a cancelled subscription stays cancelled whatever is said about it later", async () => {
    const fan = await accountWithRole("listener");
    const { sub, customer } = await subscribe(fan);
    await late("customer.subscription.deleted", { id: sub, customer, status: "canceled" }, 0);
    // Newer than the cancellation (Stripe does not reopen a cancelled subscription).
    await late("customer.subscription.updated", { id: sub, customer, status: "active" }, -5);
    await late(
      "checkout.session.completed",
      { client_reference_id: fan.id, customer, subscription: sub, payment_status: "paid" },
      -5,
    );
    expect(await planOf(fan)).toBe("free");
    // A new subscription is what brings it back.
    await subscribe(fan, `${sub}_new`, customer);
    expect(await planOf(fan)).toBe("premium");
  });

  it("a late deletion of an old subscription does not end the new one", async () => {
    const fan = await accountWithRole("listener");
    const { customer } = await subscribe(fan, "sub_old_" + fan.id);
    await late("customer.subscription.deleted", { id: `sub_old_${fan.id}`, customer }, 0);
    await subscribe(fan, `sub_new_${fan.id}`, customer);
    await late("customer.subscription.deleted", { id: `sub_old_${fan.id}`, customer }, 0);
    await late(
      "customer.subscription.updated",
      { id: `sub_old_${fan.id}`, customer, status: "canceled" },
      0,
    );
    expect(await subscriptionOf(fan)).toMatchObject({ plan: "premium", status: "active" });
  });
});

describe("failed payments", () => {
  it("never grant Premium to an account that has not paid", async () => {
    const fan = await accountWithRole("listener");
    await late(
      "checkout.session.completed",
      {
        client_reference_id: fan.id,
        customer: `cus_${fan.id}`,
        subscription: `sub_${fan.id}`,
        payment_status: "unpaid",
      },
      0,
    );
    expect(await subscriptionOf(fan)).toMatchObject({ plan: "free", status: "incomplete" });
    await late(
      "invoice.payment_failed",
      { subscription: `sub_${fan.id}`, customer: `cus_${fan.id}` },
      0,
    );
    expect(await subscriptionOf(fan)).toMatchObject({ plan: "free", graceUntil: null });
    await late("customer.subscription.updated", { id: `sub_${fan.id}`, status: "past_due" }, 0);
    expect(await planOf(fan)).toBe("free");
    // The payment clears: now it is Premium.
    await late("customer.subscription.updated", { id: `sub_${fan.id}`, status: "active" }, 0);
    expect(await planOf(fan)).toBe("premium");
  });

  it("keep paid Premium for one grace period that further failures do not extend", async () => {
    const fan = await accountWithRole("listener");
    const { sub, customer } = await subscribe(fan);
    await late("invoice.payment_failed", { subscription: sub, customer }, 0);
    const first = await subscriptionOf(fan);
    expect(first).toMatchObject({ plan: "premium", status: "past_due" });
    await new Promise((r) => setTimeout(r, 20));
    await late("invoice.payment_failed", { subscription: sub, customer }, 0);
    await late("customer.subscription.updated", { id: sub, customer, status: "past_due" }, 0);
    expect((await subscriptionOf(fan)).graceUntil).toBe(first.graceUntil);
  });

  it("do not bring Premium back once the grace ran out", async () => {
    const fan = await accountWithRole("listener");
    const { sub, customer } = await subscribe(fan);
    await late("invoice.payment_failed", { subscription: sub, customer }, 0);
    const { env } = await import("cloudflare:test");
    await env.DB.prepare("UPDATE subscriptions SET grace_until = ? WHERE user_id = ?")
      .bind(Date.now() - 1000, fan.id)
      .run();
    await runCron("17 3 * * *");
    expect(await planOf(fan)).toBe("free");
    await late("customer.subscription.updated", { id: sub, customer, status: "past_due" }, 0);
    await late("invoice.payment_failed", { subscription: sub, customer }, 0);
    expect(await subscriptionOf(fan)).toMatchObject({ plan: "free" });
  });
});

describe("malformed events", () => {
  it("are recorded and ignored, not errors that make Stripe resend them for days", async () => {
    const fan = await accountWithRole("listener");
    await subscribe(fan);
    for (const [type, object] of [
      ["customer.subscription.updated", { id: `sub_${fan.id}` }],
      ["customer.subscription.updated", { id: 42, status: "active" }],
      ["checkout.session.completed", { client_reference_id: ["x"] }],
      ["invoice.payment_failed", { subscription: { id: "sub_x" } }],
    ] as const) {
      const res = await deliver(event(type, object));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe("ignored");
    }
    expect(await planOf(fan)).toBe("premium");
  });
});
