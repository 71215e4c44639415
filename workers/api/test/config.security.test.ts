import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";

const key = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

async function fetchWith(overrides: Partial<Env>, path = "/healthz") {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`https://api.test${path}`),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("key rings are checked before anything is served", () => {
  it.each([
    ["JWT_KEYS", { JWT_KEYS: JSON.stringify({ k1: "too-short-a-key" }) }, /JWT_KEYS: key k1 has/],
    ["JWT_KEYS", { JWT_KEYS: JSON.stringify({ k1: "A".repeat(64) }) }, /does not look random/],
    ["JWT_KEYS", { JWT_KEYS: JSON.stringify({ "../k": key() }) }, /key id/],
    ["JWT_KEYS", { JWT_ACTIVE_KID: "k9" }, /no key "k9"/],
    ["PLAYBACK_KEYS", { PLAYBACK_KEYS: "[]" }, /PLAYBACK_KEYS must be a JSON object/],
    ["PLAYBACK_KEYS", { PLAYBACK_ACTIVE_KID: "__proto__" }, /no key "__proto__"/],
  ])("refuses to serve with a bad %s, saying which setting is wrong", async (_, bad, reason) => {
    for (const path of ["/healthz", "/v1/genres"]) {
      const res = await fetchWith(bad, path);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { code: string; detail: string };
      expect(body.code).toBe("SERVICE_MISCONFIGURED");
      expect(body.detail).toMatch(reason);
      expect(body.detail).not.toContain("AAAAAAAA");
    }
  });

  it("serves with rings of random keys in base64 or base64url", async () => {
    const res = await fetchWith({
      JWT_KEYS: JSON.stringify({ k1: key(), old_1: key().replaceAll("+", "-") }),
    });
    expect(res.status).toBe(200);
  });
});
