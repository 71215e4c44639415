import { describe, expect, it } from "vitest";
import { presign, verifyPresigned, type S3Target } from "../src/lib/presign";

const target: S3Target = {
  endpoint: "https://api.test/dev/r2",
  bucket: "media",
  accessKeyId: "test-access-key",
  secretAccessKey: "test-secret-key-0123456789",
};

const put = (url: string, headers: Record<string, string>) =>
  new Request(url, { method: "PUT", headers });

describe("presigned URLs", () => {
  it("verify when method, key and signed headers match, and name the key", async () => {
    const url = await presign(target, {
      method: "PUT",
      key: "uploads/u1/up 1/source",
      headers: { "content-type": "audio/flac", "content-length": "1234" },
      expiresSeconds: 900,
    });
    expect(new URL(url).searchParams.get("X-Amz-SignedHeaders")).toBe(
      "content-length;content-type;host",
    );
    const check = await verifyPresigned(
      target,
      put(url, { "content-type": "audio/flac", "content-length": "1234" }),
    );
    expect(check).toEqual({ ok: true, key: "uploads/u1/up 1/source" });
  });

  it("refuse another length, another type, another method, another key or a changed expiry", async () => {
    const url = await presign(target, {
      method: "PUT",
      key: "uploads/u1/a/source",
      headers: { "content-type": "audio/flac", "content-length": "1234" },
      expiresSeconds: 900,
    });
    const refusals = [
      put(url, { "content-type": "audio/flac", "content-length": "9999" }),
      put(url, { "content-type": "audio/mpeg", "content-length": "1234" }),
      new Request(url, { method: "GET" }),
      put(url.replace("/a/source", "/b/source"), {
        "content-type": "audio/flac",
        "content-length": "1234",
      }),
      put(url.replace("X-Amz-Expires=900", "X-Amz-Expires=999999"), {
        "content-type": "audio/flac",
        "content-length": "1234",
      }),
    ];
    for (const request of refusals) expect((await verifyPresigned(target, request)).ok).toBe(false);
  });

  it("refuse an expired URL and a foreign credential", async () => {
    const url = await presign(target, { method: "GET", key: "k", expiresSeconds: 60 });
    expect(await verifyPresigned(target, new Request(url), Date.now() + 61_000)).toEqual({
      ok: false,
      reason: "expired",
    });
    expect(
      await verifyPresigned({ ...target, accessKeyId: "other" }, new Request(url)),
    ).toMatchObject({ ok: false });
    expect(
      await verifyPresigned(
        { ...target, secretAccessKey: "other-secret-0123456789" },
        new Request(url),
      ),
    ).toEqual({
      ok: false,
      reason: "signature mismatch",
    });
  });
});
