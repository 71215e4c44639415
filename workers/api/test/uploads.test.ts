import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../src/lib/config";
import { buildServices } from "../src/features";
import { createArtist } from "./catalog-fixtures";
import { accountWithRole, call, callJson, expectProblem, register, type Account } from "./helpers";

type Created = {
  uploadId: string;
  putUrl: string;
  headers: Record<string, string>;
  expiresAt: string;
};
const AUDIO = new Uint8Array(4096).map((_, i) => i % 251);

const start = (account: Account, body: Record<string, unknown>) =>
  call("POST", "/v1/uploads", { token: account.accessToken, body });
const create = async (account: Account, size = AUDIO.length) =>
  (await (
    await start(account, { filename: "song.flac", contentType: "audio/flac", size })
  ).json()) as Created;
const put = (url: string, body: Uint8Array, headers: Record<string, string>) =>
  SELF.fetch(url, { method: "PUT", headers, body });

describe("uploads", () => {
  let alice: Account;
  let bob: Account;
  beforeAll(async () => {
    alice = await register();
    bob = await register();
  });

  it("hand out a presigned PUT bound to type and size, accept the bytes, and queue on complete", async () => {
    const res = await start(alice, {
      filename: "song.flac",
      contentType: "audio/flac",
      size: AUDIO.length,
      title: "Mine",
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Created;
    const url = new URL(created.putUrl);
    expect(url.pathname).toBe(
      `/dev/r2/edge-music-media/uploads/${alice.id}/${created.uploadId}/source`,
    );
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("content-length;content-type;host");
    expect(created.headers).toEqual({
      "Content-Type": "audio/flac",
      "Content-Length": String(AUDIO.length),
    });
    expect((await put(created.putUrl, AUDIO, created.headers)).status).toBe(200);
    const stored = await env.MEDIA.get(`uploads/${alice.id}/${created.uploadId}/source`);
    expect(new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(AUDIO);
    const completed = await callJson<{ state: string }>(
      "POST",
      `/v1/uploads/${created.uploadId}/complete`,
      202,
      { token: alice.accessToken },
    );
    expect(completed.state).toBe("queued");
    const again = await callJson<{ state: string }>(
      "POST",
      `/v1/uploads/${created.uploadId}/complete`,
      202,
      { token: alice.accessToken },
    );
    expect(["queued", "processing", "ready", "failed"]).toContain(again.state);
    const listed = await callJson<{ items: { id: string }[] }>("GET", "/v1/uploads", 200, {
      token: alice.accessToken,
    });
    expect(listed.items.map((u) => u.id)).toContain(created.uploadId);
  });

  it("refuse unsupported types, empty files and files over the limit up front", async () => {
    await expectProblem(
      await start(alice, { filename: "a.txt", contentType: "text/plain", size: 10 }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    await expectProblem(
      await start(alice, { filename: "a.mp3", contentType: "audio/mpeg", size: 0 }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(
      await start(alice, { filename: "a.mp3", contentType: "audio/mpeg", size: 600_000_000 }),
      413,
      "FILE_TOO_LARGE",
    );
    for (const type of [
      "audio/mpeg",
      "audio/wav",
      "audio/flac",
      "audio/mp4",
      "audio/aac",
      "audio/ogg",
      "audio/opus",
      "audio/aiff",
    ]) {
      expect(
        (await start(await register(), { filename: "x", contentType: type, size: 10 })).status,
      ).toBe(201);
    }
  });

  it("limit uploads in flight per user", async () => {
    const carol = await register();
    for (let i = 0; i < 3; i++) await create(carol);
    const res = await start(carol, { filename: "x.flac", contentType: "audio/flac", size: 10 });
    await expectProblem(res, 429, "TOO_MANY_UPLOADS_IN_FLIGHT");
  });

  it("the storage route refuses a wrong signature, another length or type, and an expired URL", async () => {
    const created = await create(alice);
    const wrongLength = new Uint8Array(AUDIO.length + 1);
    expect(
      (
        await put(created.putUrl, wrongLength, {
          ...created.headers,
          "Content-Length": String(wrongLength.length),
        })
      ).status,
    ).toBe(403);
    expect(
      (await put(created.putUrl, AUDIO, { ...created.headers, "Content-Type": "audio/mpeg" }))
        .status,
    ).toBe(403);
    const tampered = created.putUrl.replace(/X-Amz-Signature=[0-9a-f]{4}/, "X-Amz-Signature=0000");
    expect((await put(tampered, AUDIO, created.headers)).status).toBe(403);
    const otherKey = created.putUrl.replace(`/${created.uploadId}/`, "/upl_other/");
    expect((await put(otherKey, AUDIO, created.headers)).status).toBe(403);
    const expired = created.putUrl.replace(
      /X-Amz-Date=\d{8}T\d{6}Z/,
      "X-Amz-Date=20200101T000000Z",
    );
    expect((await put(expired, AUDIO, created.headers)).status).toBe(403);
    expect(await env.MEDIA.head(`uploads/${alice.id}/${created.uploadId}/source`)).toBeNull();
  });

  it("complete refuses until the file arrived, and a file of the wrong size is removed", async () => {
    const created = await create(alice);
    await expectProblem(
      await call("POST", `/v1/uploads/${created.uploadId}/complete`, { token: alice.accessToken }),
      409,
      "UPLOAD_NOT_RECEIVED",
    );
    // Bypass the URL (which binds the length) to plant a wrong-sized object, as a broken client might.
    await env.MEDIA.put(`uploads/${alice.id}/${created.uploadId}/source`, new Uint8Array(10));
    await expectProblem(
      await call("POST", `/v1/uploads/${created.uploadId}/complete`, { token: alice.accessToken }),
      409,
      "SIZE_MISMATCH",
    );
    expect(await env.MEDIA.head(`uploads/${alice.id}/${created.uploadId}/source`)).toBeNull();
    const state = await callJson<{ state: string }>("GET", `/v1/uploads/${created.uploadId}`, 200, {
      token: alice.accessToken,
    });
    expect(state.state).toBe("awaiting_upload");
  });

  it("another user's upload is 404 for every action", async () => {
    const erin = await register();
    const created = await create(erin);
    for (const [method, path] of [
      ["GET", ""],
      ["POST", "/complete"],
      ["DELETE", ""],
    ] as const) {
      const res = await call(method, `/v1/uploads/${created.uploadId}${path}`, {
        token: bob.accessToken,
      });
      await expectProblem(res, 404, "NOT_FOUND");
    }
    await expectProblem(await call("GET", `/v1/uploads/${created.uploadId}`), 401);
  });

  it("cancel removes the object and the row", async () => {
    const dave = await register();
    const created = await create(dave);
    await put(created.putUrl, AUDIO, created.headers);
    expect(
      (await call("DELETE", `/v1/uploads/${created.uploadId}`, { token: dave.accessToken })).status,
    ).toBe(204);
    expect(await env.MEDIA.head(`uploads/${dave.id}/${created.uploadId}/source`)).toBeNull();
    const row = await env.DB.prepare("SELECT count(*) AS n FROM uploads WHERE id = ?")
      .bind(created.uploadId)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
  });

  it("an artist may file an upload under an artist it manages, not under another's", async () => {
    const artist = await accountWithRole("artist");
    const other = await accountWithRole("artist");
    const mine = await createArtist(artist, "Uploader Act");
    expect(
      (
        await start(artist, {
          filename: "x.flac",
          contentType: "audio/flac",
          size: 10,
          artistId: mine.id,
        })
      ).status,
    ).toBe(201);
    await expectProblem(
      await start(other, {
        filename: "x.flac",
        contentType: "audio/flac",
        size: 10,
        artistId: mine.id,
      }),
      403,
      "NOT_ARTIST_OWNER",
    );
  });
});

describe("an upload being retried", () => {
  it("says which attempt it is on, and why the last one did not finish", async () => {
    const owner = await register();
    const created = await create(owner);
    expect((await put(created.putUrl, AUDIO, created.headers)).status).toBe(200);
    await callJson("POST", `/v1/uploads/${created.uploadId}/complete`, 202, {
      token: owner.accessToken,
    });
    const view = () =>
      callJson<{
        state: string;
        progress: { stage: string; attempt: number; maxAttempts: number };
        failure: { code: string } | null;
      }>("GET", `/v1/uploads/${created.uploadId}`, 200, { token: owner.accessToken });
    expect((await view()).progress).toMatchObject({ attempt: 0, maxAttempts: 2 });
    // Nothing listens at the test's TRANSCODER_URL: the attempt fails and is retried.
    const ingest = buildServices(env, readConfig(env)).ingest;
    expect((await ingest.process(created.uploadId)).kind).toBe("retry");
    expect(await view()).toMatchObject({
      state: "queued",
      progress: { stage: "retrying", attempt: 1, maxAttempts: 2 },
      failure: { code: "TRANSCODER_UNAVAILABLE" },
    });
    expect((await ingest.process(created.uploadId)).kind).toBe("failed");
    expect(await view()).toMatchObject({
      state: "failed",
      progress: { attempt: 2, maxAttempts: 2 },
      failure: { code: "TRANSCODER_UNAVAILABLE" },
    });
  });
});
