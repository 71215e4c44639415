import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "./server.js";

describe("transcoder http server", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = await startServer(0, { secret: "s3cret" });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("answers the container readiness ping", async () => {
    const res = await fetch(`${base}/ping`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("pong");
  });

  it("reports health as JSON", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(await res.json()).toMatchObject({ ok: true, service: "transcoder" });
  });

  it("refuses unknown routes with a problem body", async () => {
    const res = await fetch(`${base}/nope`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "ROUTE_NOT_FOUND", status: 404 });
  });
});
