import { describe, expect, it } from "vitest";
import { keyIdToBase64Url } from "@edge-music/core/content-protection";
import { createArtist, createTrack, makeReady, openWorldwide, protect } from "./catalog-fixtures";
import { accountWithRole, call, expectProblem, freshIp } from "./helpers";

/**
 * The limiter counts per fixed minute: `limit` calls pass, the next is refused, unless the
 * loop crosses into the next minute (then up to `limit` more pass first).
 */
function expectLimited(
  refused: { calls: number; code: unknown; retryAfter: string | null } | null,
  limit: number,
) {
  expect(refused).toMatchObject({ code: "RATE_LIMITED", retryAfter: "60" });
  expect(refused?.calls).toBeGreaterThan(limit);
  expect(refused?.calls).toBeLessThanOrEqual(2 * limit + 1);
}

/** Calls `attempt` until it is refused with 429 or `max` calls were made; returns the refusal. */
async function until429(attempt: () => Promise<Response>, max: number) {
  for (let i = 0; i < max; i++) {
    const res = await attempt();
    if (res.status === 429) {
      const body = await expectProblem(res, 429);
      return { calls: i + 1, code: body["code"], retryAfter: res.headers.get("Retry-After") };
    }
    await res.body?.cancel();
  }
  return null;
}

describe("limits at the door", () => {
  it("an account taking grants in a loop is refused with 429 and Retry-After", async () => {
    const artist = await accountWithRole("artist");
    const trackId = (await createTrack(artist, (await createArtist(artist, "Loop")).id)).id;
    await makeReady(trackId);
    await openWorldwide(trackId);
    const greedy = await accountWithRole("listener");
    const refused = await until429(
      () => call("POST", `/v1/tracks/${trackId}/playback`, { token: greedy.accessToken, body: {} }),
      200,
    );
    expectLimited(refused, 60);
    // Per account: another listener still gets a grant.
    const other = await accountWithRole("listener");
    const res = await call("POST", `/v1/tracks/${trackId}/playback`, {
      token: other.accessToken,
      body: {},
    });
    expect(res.status).toBe(200);
  });

  it("an account asking for licenses in a loop is refused with 429", async () => {
    const artist = await accountWithRole("artist");
    const trackId = (await createTrack(artist, (await createArtist(artist, "Keys")).id)).id;
    await makeReady(trackId);
    await openWorldwide(trackId);
    const { keyId } = await protect(trackId);
    const greedy = await accountWithRole("listener");
    const res = await call("POST", `/v1/tracks/${trackId}/playback`, {
      token: greedy.accessToken,
      body: {},
    });
    const { token } = (await res.json()) as { token: string };
    const refused = await until429(
      () =>
        call("POST", "/v1/licenses/clearkey", {
          token: greedy.accessToken,
          body: { kids: [keyIdToBase64Url(keyId)] },
          headers: { "X-Playback-Token": token },
        }),
      400,
    );
    expectLimited(refused, 120);
  });

  it("an account posting event batches in a loop is refused with 429", async () => {
    const chatty = await accountWithRole("listener");
    const event = {
      eventId: crypto.randomUUID(),
      playbackId: "pb1.p1.e30.AAAA",
      trackId: "trk_x",
      type: "start",
      positionMs: 0,
      playedMs: 0,
      rendition: "aac_64",
      occurredAt: new Date().toISOString(),
    };
    const refused = await until429(
      () =>
        call("POST", "/v1/playback-events", {
          token: chatty.accessToken,
          body: { events: [event] },
        }),
      200,
    );
    expectLimited(refused, 60);
  });

  it("an account asking for upload URLs in a loop is refused with 429", async () => {
    const uploader = await accountWithRole("listener");
    const refused = await until429(async () => {
      const res = await call("POST", "/v1/uploads", {
        token: uploader.accessToken,
        body: { filename: "a.mp3", contentType: "audio/mpeg", size: 1000 },
      });
      // The in-flight cap answers 429 too; the loop is after the rate limit.
      if (
        res.status === 429 &&
        ((await res.clone().json()) as { code: string }).code !== "RATE_LIMITED"
      ) {
        return new Response(null, { status: 200 });
      }
      return res;
    }, 100);
    expectLimited(refused, 30);
  });

  it("registration from one address is limited across accounts", async () => {
    const ip = freshIp();
    const refused = await until429(
      () =>
        call("POST", "/v1/auth/register", {
          body: {
            email: `spray-${crypto.randomUUID()}@example.com`,
            password: "correct horse battery",
            displayName: "S",
          },
          headers: { "CF-Connecting-IP": ip },
        }),
      200,
    );
    expectLimited(refused, 30);
  });

  it("logins to one account are limited whatever address they come from", async () => {
    const target = await accountWithRole("listener");
    const refused = await until429(
      () =>
        call("POST", "/v1/auth/login", {
          body: { email: target.email, password: "wrong password guess" },
          headers: { "CF-Connecting-IP": freshIp() },
        }),
      200,
    );
    // Ten a minute per address, and registering the account was the first.
    expectLimited(refused, 9);
  });
});
