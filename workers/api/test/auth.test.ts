import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, callJson, expectProblem, freshIp, register, type Json } from "./helpers";

const login = (email: string, password = "correct horse battery", ip = freshIp()) =>
  call("POST", "/v1/auth/login", {
    body: { email, password, deviceName: "Test phone" },
    headers: {
      "CF-Connecting-IP": ip,
      "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    },
  });

describe("register", () => {
  it("creates a listener and returns a usable token pair", async () => {
    const account = await register();
    expect(account.role).toBe("listener");
    const me = await callJson("GET", "/v1/me", 200, { token: account.accessToken });
    expect(me).toMatchObject({
      id: account.id,
      email: account.email,
      role: "listener",
      plan: "free",
    });
  });

  it("normalizes the email and stores only a PBKDF2 hash with its iteration count", async () => {
    const account = await register("  Mixed.Case@Example.COM ");
    expect(account.email).toBe("mixed.case@example.com");
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(account.id)
      .first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$2000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(row?.password_hash).not.toContain("correct horse");
  });

  it("refuses a second account with the same email, compared case-insensitively", async () => {
    await register("dupe@example.com");
    const res = await call("POST", "/v1/auth/register", {
      body: { email: "  DUPE@Example.com ", password: "another long password", displayName: "X" },
    });
    await expectProblem(res, 409, "EMAIL_TAKEN");
  });

  it("states the password rules when it refuses a password", async () => {
    for (const password of ["short", "aaaaaaaaaaaa", "weak@example.com"]) {
      const res = await call("POST", "/v1/auth/register", {
        body: { email: "weak@example.com", password, displayName: "W" },
      });
      const body = await expectProblem(res, 422, "WEAK_PASSWORD");
      expect(body["detail"]).toContain("10 to 256 characters");
    }
    const count = await env.DB.prepare(
      "SELECT count(*) AS n FROM users WHERE email = 'weak@example.com'",
    ).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("names each invalid field", async () => {
    const res = await call("POST", "/v1/auth/register", {
      body: { email: "not-an-email", password: 5 },
    });
    const body = await expectProblem(res, 400, "VALIDATION_FAILED");
    const fields = (body["errors"] as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(["displayName", "email", "password"]);
  });

  it("answers malformed JSON with a problem, not a crash", async () => {
    const res = await call("POST", "/v1/auth/register", {
      headers: { "Content-Type": "application/json" },
      body: undefined,
    });
    await expectProblem(res, 400);
    const broken = await fetchRaw("/v1/auth/login", "{not json");
    await expectProblem(broken, 400, "MALFORMED_JSON");
  });

  it("rate limits registrations from one client address", async () => {
    let res: Response | undefined;
    for (let i = 0; i < 70; i++) {
      res = await call("POST", "/v1/auth/register", {
        body: {
          email: `burst${i}@example.com`,
          password: "correct horse battery",
          displayName: "B",
        },
        headers: { "CF-Connecting-IP": "203.0.113.9" },
      });
      if (res.status === 429) break;
    }
    await expectProblem(res as Response, 429, "RATE_LIMITED");
    expect(res?.headers.get("Retry-After")).toBe("60");
  });

  it("never makes an admin of whoever registers, whatever the address", async () => {
    for (const email of ["admin@example.org", "root@example.org", "Admin@Demo.Local"]) {
      const account = await register(email);
      expect(account.role).toBe("listener");
      const res = await call("PUT", `/v1/users/${account.id}/role`, {
        token: account.accessToken,
        body: { role: "admin" },
      });
      await expectProblem(res, 403, "FORBIDDEN");
    }
  });
});

async function fetchRaw(path: string, body: string) {
  const { SELF } = await import("cloudflare:test");
  return SELF.fetch(`https://api.test${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
}

describe("login", () => {
  it("opens a named device session", async () => {
    const account = await register();
    const res = await login(account.email);
    expect(res.status).toBe(200);
    const pair = (await res.json()) as { accessToken: string; expiresIn: number };
    expect(pair.expiresIn).toBe(900);
    const sessions = await callJson<{ items: Json[] }>("GET", "/v1/me/sessions", 200, {
      token: pair.accessToken,
    });
    expect(sessions.items).toHaveLength(2);
    expect(sessions.items[0]).toMatchObject({ name: "Test phone", current: true });
    expect(sessions.items[1]).toMatchObject({ current: false });
  });

  it("gives the same answer for a wrong password and an unknown email", async () => {
    const account = await register();
    const wrong = await expectProblem(
      await login(account.email, "wrong password!!"),
      401,
      "INVALID_CREDENTIALS",
    );
    const unknown = await expectProblem(
      await login("nobody@example.com"),
      401,
      "INVALID_CREDENTIALS",
    );
    expect(wrong["detail"]).toBe(unknown["detail"]);
  });

  it("rate limits one account with 429 and Retry-After", async () => {
    const account = await register();
    const statuses: number[] = [];
    let last: Response | undefined;
    // The limiter counts in fixed 60 s windows: twice the limit plus margin always fills one.
    for (let i = 0; i < 25; i++) {
      last = await login(account.email, "wrong password!!");
      statuses.push(last.status);
      if (last.status === 429) break;
    }
    expect(statuses).toContain(401);
    expect(statuses.at(-1)).toBe(429);
    expect(last?.headers.get("Retry-After")).toBe("60");
    await expectProblem(last as Response, 429, "RATE_LIMITED");
  });

  it("rate limits one client address across accounts", async () => {
    const ip = "203.0.113.77";
    let status = 0;
    for (let i = 0; i < 70 && status !== 429; i++) {
      status = (await login(`spray${i}@example.com`, "wrong password!!", ip)).status;
    }
    expect(status).toBe(429);
  });
});

describe("logout and sessions", () => {
  it("logout ends the session: its access and refresh tokens stop working", async () => {
    const account = await register();
    const res = await call("POST", "/v1/auth/logout", {
      token: account.accessToken,
      body: { refreshToken: account.refreshToken },
    });
    expect(res.status).toBe(204);
    await expectProblem(await call("GET", "/v1/me", { token: account.accessToken }), 401);
    await expectProblem(
      await call("POST", "/v1/auth/refresh", { body: { refreshToken: account.refreshToken } }),
      401,
      "INVALID_REFRESH_TOKEN",
    );
  });

  it("revoking a device session signs that device out at once", async () => {
    const account = await register();
    const phone = (await (await login(account.email)).json()) as { accessToken: string };
    const list = await callJson<{ items: { id: string; current: boolean }[] }>(
      "GET",
      "/v1/me/sessions",
      200,
      {
        token: account.accessToken,
      },
    );
    const phoneSession = list.items.find((s) => !s.current);
    expect(phoneSession).toBeDefined();
    const res = await call("DELETE", `/v1/me/sessions/${phoneSession?.id}`, {
      token: account.accessToken,
    });
    expect(res.status).toBe(204);
    await expectProblem(await call("GET", "/v1/me", { token: phone.accessToken }), 401);
    await callJson("GET", "/v1/me", 200, { token: account.accessToken });
  });

  it("paginates sessions with a cursor", async () => {
    const account = await register();
    for (let i = 0; i < 3; i++) await login(account.email);
    const first = await callJson<{ items: Json[]; nextCursor: string }>(
      "GET",
      "/v1/me/sessions?limit=3",
      200,
      {
        token: account.accessToken,
      },
    );
    expect(first.items).toHaveLength(3);
    const second = await callJson<{ items: Json[]; nextCursor: null }>(
      "GET",
      `/v1/me/sessions?limit=3&cursor=${first.nextCursor}`,
      200,
      { token: account.accessToken },
    );
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
  });

  it("me endpoints need a token", async () => {
    await expectProblem(await call("GET", "/v1/me"), 401, "UNAUTHENTICATED");
    await expectProblem(await call("GET", "/v1/me/sessions"), 401, "UNAUTHENTICATED");
  });
});
