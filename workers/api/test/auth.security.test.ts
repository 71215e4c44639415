import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, callJson, expectProblem, register } from "./helpers";

describe("refresh tokens", () => {
  it("rotate on every use", async () => {
    const account = await register();
    const first = await callJson<{ refreshToken: string; accessToken: string }>(
      "POST",
      "/v1/auth/refresh",
      200,
      {
        body: { refreshToken: account.refreshToken },
      },
    );
    expect(first.refreshToken).not.toBe(account.refreshToken);
    await callJson("GET", "/v1/me", 200, { token: first.accessToken });
    const second = await callJson<{ refreshToken: string }>("POST", "/v1/auth/refresh", 200, {
      body: { refreshToken: first.refreshToken },
    });
    expect(second.refreshToken).not.toBe(first.refreshToken);
  });

  it("are stored only as hashes", async () => {
    const account = await register();
    const rows = await env.DB.prepare("SELECT token_hash FROM refresh_tokens").all<{
      token_hash: string;
    }>();
    expect(rows.results.some((r) => r.token_hash === account.refreshToken)).toBe(false);
    expect(rows.results.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });

  it("revoke the whole session when an old one is presented again", async () => {
    const account = await register();
    const rotated = await callJson<{ refreshToken: string; accessToken: string }>(
      "POST",
      "/v1/auth/refresh",
      200,
      {
        body: { refreshToken: account.refreshToken },
      },
    );
    const reuse = await call("POST", "/v1/auth/refresh", {
      body: { refreshToken: account.refreshToken },
    });
    await expectProblem(reuse, 401, "REFRESH_TOKEN_REUSED");
    // The thief's copy and the legitimate rotated token are both dead now.
    await expectProblem(
      await call("POST", "/v1/auth/refresh", { body: { refreshToken: rotated.refreshToken } }),
      401,
      "INVALID_REFRESH_TOKEN",
    );
    await expectProblem(
      await call("GET", "/v1/me", { token: rotated.accessToken }),
      401,
      "UNAUTHENTICATED",
    );
  });

  it("refuse unknown tokens", async () => {
    await expectProblem(
      await call("POST", "/v1/auth/refresh", { body: { refreshToken: "rt_made_up" } }),
      401,
      "INVALID_REFRESH_TOKEN",
    );
  });
});

describe("other accounts' sessions", () => {
  it("another user's session is 404, and stays alive", async () => {
    const alice = await register();
    const bob = await register();
    const bobSessions = await callJson<{ items: { id: string }[] }>("GET", "/v1/me/sessions", 200, {
      token: bob.accessToken,
    });
    const res = await call("DELETE", `/v1/me/sessions/${bobSessions.items[0]?.id}`, {
      token: alice.accessToken,
    });
    await expectProblem(res, 404, "NOT_FOUND");
    await callJson("GET", "/v1/me", 200, { token: bob.accessToken });
  });
});
