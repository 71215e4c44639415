import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("stream-gate", () => {
  it("reports health", async () => {
    const res = await SELF.fetch("https://gate.test/healthz");
    expect(await res.json()).toEqual({ ok: true, service: "stream-gate" });
  });

  it("refuses other paths with a bare, uncached 404, and a bad token with 403", async () => {
    const res = await SELF.fetch("https://gate.test/anything/master.m3u8");
    expect(res.status).toBe(404);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.text()).toBe("");
    const forged = await SELF.fetch("https://gate.test/p/v1.k1.e30.AAAA/master.m3u8");
    expect(forged.status).toBe(403);
    expect(await forged.text()).toBe("");
  });
});
