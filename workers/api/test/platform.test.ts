import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, callJson, expectProblem } from "./helpers";

describe("platform", () => {
  it("reports health", async () => {
    expect(await callJson("GET", "/healthz", 200)).toEqual({ ok: true, service: "api" });
  });

  it("answers unknown routes with a problem", async () => {
    const body = await expectProblem(await call("GET", "/v1/nothing-here"), 404, "ROUTE_NOT_FOUND");
    expect(body["detail"]).toContain("/v1/nothing-here");
  });

  it("tags every response with a request id that problems repeat", async () => {
    const res = await call("GET", "/v1/tracks/trk_missing");
    const body = await expectProblem(res.clone(), 404);
    expect(res.headers.get("X-Request-Id")).toBe(body["requestId"]);
  });

  it("sends security headers on api responses", async () => {
    const res = await call("GET", "/healthz");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Strict-Transport-Security")).toContain("max-age=");
    expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
  });

  it("publishes an OpenAPI 3.1 document generated from the route schemas", async () => {
    const doc = await callJson<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>("GET", "/openapi.json", 200);
    expect(doc.openapi).toBe("3.1.0");
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        "POST /v1/auth/register",
        "POST /v1/auth/login",
        "POST /v1/auth/refresh",
        "POST /v1/auth/logout",
        "GET /v1/me",
        "GET /v1/me/sessions",
        "DELETE /v1/me/sessions/{id}",
        "GET /v1/artists/{id}",
        "GET /v1/artists/{id}/albums",
        "GET /v1/artists/{id}/top-tracks",
        "GET /v1/albums/{id}",
        "GET /v1/tracks/{id}",
        "GET /v1/genres",
        "GET /v1/genres/{id}/tracks",
        "POST /v1/artists",
        "PATCH /v1/artists/{id}",
        "POST /v1/albums",
        "PATCH /v1/albums/{id}",
        "POST /v1/tracks",
        "PATCH /v1/tracks/{id}",
        "GET /v1/search",
        "GET /v1/search/suggest",
        "POST /v1/playback-events",
        "GET /v1/me/history",
        "GET /v1/tracks/{id}/stats",
        "GET /v1/royalties/report",
        "POST /v1/playlists",
        "GET /v1/playlists/{id}",
        "PATCH /v1/playlists/{id}/tracks/{itemId}",
        "GET /v1/users/{id}/playlists",
        "PUT /v1/me/likes/{type}/{id}",
        "GET /v1/me/library",
        "GET /v1/plans",
        "POST /v1/subscriptions/checkout",
        "POST /v1/webhooks/stripe",
        "GET /v1/me/subscription",
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Track", "Problem", "TokenPair"]),
    );
  });

  it("serves the docs page and web app as static assets with a CSP", async () => {
    const docs = await env.ASSETS.fetch("https://api.test/docs/");
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("/openapi.json");
    const home = await env.ASSETS.fetch("https://api.test/");
    expect(home.status).toBe(200);
    expect(home.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    expect(home.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });
});
