import { describe, expect, it } from "vitest";
import { API_ERRORS, DomainError, type ApiErrorCode } from "@edge-music/core/api-errors";
import { domainErrorResponse } from "../src/lib/problem";
import { SELF } from "cloudflare:test";
import { call, freshIp } from "./helpers";

const codes = Object.keys(API_ERRORS) as ApiErrorCode[];

describe("the error catalogue", () => {
  it("gives every code an error status and a sentence", () => {
    for (const code of codes) {
      const { status, sentence } = API_ERRORS[code];
      expect({ code, ok: status >= 400 && status <= 599 }).toEqual({ code, ok: true });
      expect(sentence).toMatch(/^[A-Z].*[.]$/);
    }
  });

  it("renders a domain error with its catalogue status, its sentence by default and its headers", async () => {
    const limited = domainErrorResponse(
      new DomainError("RATE_LIMITED", undefined, { retryAfterSeconds: 42 }),
      "req-1",
    );
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("42");
    expect(limited.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await limited.json()).toMatchObject({
      code: "RATE_LIMITED",
      status: 429,
      detail: API_ERRORS.RATE_LIMITED.sentence,
      type: "urn:problem-type:edge-music:rate-limited",
      requestId: "req-1",
    });
    const unauthenticated = domainErrorResponse(new DomainError("UNAUTHENTICATED"), "req-2");
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
    const wrong = domainErrorResponse(new DomainError("INVALID_CREDENTIALS"), "req-3");
    expect(wrong.headers.get("WWW-Authenticate")).toBeNull();
    expect(wrong.headers.get("Retry-After")).toBeNull();
  });

  it("names only catalogue codes in the OpenAPI document", async () => {
    const text = await (await call("GET", "/openapi.json")).text();
    const named = new Set([...text.matchAll(/`([A-Z][A-Z0-9_]{3,})`/g)].map((m) => m[1]));
    expect(named.size).toBeGreaterThan(3);
    for (const code of named) expect(Object.hasOwn(API_ERRORS, code as string)).toBe(true);
  });

  it("answers an unknown route and a malformed body with catalogue codes", async () => {
    const missing = await call("GET", "/v1/no-such-thing");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe("ROUTE_NOT_FOUND");
    const malformed = await SELF.fetch("https://api.test/v1/playlists", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: "MALFORMED_JSON" });
  });
});
