import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("stream-gate", () => {
  it("reports health", async () => {
    const res = await SELF.fetch("https://gate.test/healthz");
    expect(await res.json()).toEqual({ ok: true, service: "stream-gate" });
  });

  it("refuses anything else with a bare, uncached 404", async () => {
    const res = await SELF.fetch("https://gate.test/p/anything/master.m3u8");
    expect(res.status).toBe(404);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.text()).toBe("");
  });
});
