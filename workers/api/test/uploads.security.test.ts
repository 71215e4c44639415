import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../src/lib/config";
import { UPLOAD_CLEANUP_CRON } from "../src/scheduled";
import { buildServices } from "../src/features";
import { call, callJson, expectProblem, register, runCron, type Account } from "./helpers";

type Created = { uploadId: string; putUrl: string; headers: Record<string, string> };
const AUDIO = new Uint8Array(2048).map((_, i) => (i * 7) % 251);

async function created(who: Account): Promise<Created> {
  return callJson<Created>("POST", "/v1/uploads", 201, {
    token: who.accessToken,
    body: { filename: "late.flac", contentType: "audio/flac", size: AUDIO.length },
  });
}

const put = (upload: Created) =>
  SELF.fetch(upload.putUrl, { method: "PUT", headers: upload.headers, body: AUDIO });

const keyOf = (who: Account, upload: Created) => `uploads/${who.id}/${upload.uploadId}/source`;

const sweep = (key: string) =>
  env.DB.prepare("SELECT sweep_until AS until FROM storage_deletions WHERE prefix = ?")
    .bind(key)
    .first<{ until: number }>();

/** Every object under uploads/ belongs to a live upload or is recorded for sweeping. */
async function untracked(): Promise<string[]> {
  const listed = await env.MEDIA.list({ prefix: "uploads/" });
  const out: string[] = [];
  for (const { key } of listed.objects) {
    const owner = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM uploads WHERE object_key = ?1) + (SELECT count(*) FROM storage_deletions WHERE substr(?1, 1, length(prefix)) = prefix) AS n",
    )
      .bind(key)
      .first<{ n: number }>();
    if (!owner?.n) out.push(key);
  }
  return out;
}

/** The URL has expired: the sweep's last run may forget the key. */
async function urlExpires(key: string) {
  await env.DB.prepare("UPDATE storage_deletions SET sweep_until = ? WHERE prefix = ?")
    .bind(Date.now() - 1000, key)
    .run();
}

describe("an upload URL used after its upload ended", () => {
  let uploader: Account;
  beforeAll(async () => {
    uploader = await register();
  });

  it("after a cancel, stores an object that the sweep deletes, until the URL expires", async () => {
    const upload = await created(uploader);
    await call("DELETE", `/v1/uploads/${upload.uploadId}`, { token: uploader.accessToken });
    // R2 would take it: the URL is valid and signed. Now it is tracked for sweeping.
    expect((await put(upload)).status).toBe(200);
    const key = keyOf(uploader, upload);
    expect(await env.MEDIA.head(key)).not.toBeNull();
    expect((await sweep(key))?.until).toBeGreaterThan(Date.now());
    expect(await untracked()).toEqual([]);
    // A cleanup run while the URL is still valid deletes it and keeps watching.
    await runCron(UPLOAD_CLEANUP_CRON);
    expect(await env.MEDIA.head(key)).toBeNull();
    expect(await sweep(key)).not.toBeNull();
    expect((await put(upload)).status).toBe(200);
    // Once the URL has expired, the last run deletes the late object and forgets the key.
    await urlExpires(key);
    await runCron(UPLOAD_CLEANUP_CRON);
    expect(await env.MEDIA.head(key)).toBeNull();
    expect(await sweep(key)).toBeNull();
    // The upload is gone for its owner.
    await expectProblem(
      await call("GET", `/v1/uploads/${upload.uploadId}`, { token: uploader.accessToken }),
      404,
    );
  });

  it("after a final failure, stores an object that the sweep deletes", async () => {
    const upload = await created(uploader);
    expect((await put(upload)).status).toBe(200);
    await callJson("POST", `/v1/uploads/${upload.uploadId}/complete`, 202, {
      token: uploader.accessToken,
    });
    const services = buildServices(env, readConfig(env));
    await services.ingest.failForGood(upload.uploadId, "NOT_AUDIO", "Not audio.");
    const key = keyOf(uploader, upload);
    expect(await env.MEDIA.head(key)).toBeNull();
    expect((await put(upload)).status).toBe(200);
    expect(await untracked()).toEqual([]);
    await urlExpires(key);
    await runCron(UPLOAD_CLEANUP_CRON);
    expect(await env.MEDIA.head(key)).toBeNull();
    expect(await sweep(key)).toBeNull();
    // The failure and its reason stay visible to the uploader.
    const seen = await callJson<{ state: string; failure: { code: string } }>(
      "GET",
      `/v1/uploads/${upload.uploadId}`,
      200,
      { token: uploader.accessToken },
    );
    expect(seen).toMatchObject({ state: "failed", failure: { code: "NOT_AUDIO" } });
  });

  it("a cancel while processing removes the row and sweeps the source; a published one stays", async () => {
    const upload = await created(uploader);
    expect((await put(upload)).status).toBe(200);
    await callJson("POST", `/v1/uploads/${upload.uploadId}/complete`, 202, {
      token: uploader.accessToken,
    });
    // The consumer has taken the job (its next progress write will find the row gone).
    await env.DB.prepare("UPDATE uploads SET state = 'processing', lease_until = ? WHERE id = ?")
      .bind(Date.now() + 600_000, upload.uploadId)
      .run();
    expect(
      (await call("DELETE", `/v1/uploads/${upload.uploadId}`, { token: uploader.accessToken }))
        .status,
    ).toBe(204);
    expect(await sweep(keyOf(uploader, upload))).not.toBeNull();
    expect(await env.MEDIA.head(keyOf(uploader, upload))).toBeNull();
    // Once it is a track, the track is what to delete.
    const done = await created(uploader);
    await env.DB.prepare("UPDATE uploads SET state = 'ready' WHERE id = ?")
      .bind(done.uploadId)
      .run();
    await expectProblem(
      await call("DELETE", `/v1/uploads/${done.uploadId}`, { token: uploader.accessToken }),
      409,
      "UPLOAD_PUBLISHED",
    );
  });
});

describe("other accounts' uploads", () => {
  it("are 404 to read, complete and cancel, and stay as they were", async () => {
    const owner = await register();
    const intruder = await register();
    const upload = await created(owner);
    expect((await put(upload)).status).toBe(200);
    for (const [method, path] of [
      ["GET", `/v1/uploads/${upload.uploadId}`],
      ["POST", `/v1/uploads/${upload.uploadId}/complete`],
      ["DELETE", `/v1/uploads/${upload.uploadId}`],
    ] as const) {
      await expectProblem(await call(method, path, { token: intruder.accessToken }), 404);
    }
    const mine = await callJson<{ state: string }>("GET", `/v1/uploads/${upload.uploadId}`, 200, {
      token: owner.accessToken,
    });
    expect(mine.state).toBe("awaiting_upload");
    expect(await env.MEDIA.head(keyOf(owner, upload))).not.toBeNull();
  });

  it("a presigned URL naming inherited header names as signed headers is refused", async () => {
    const owner = await register();
    const upload = await created(owner);
    for (const names of ["__proto__;host", "constructor;content-length;content-type;host"]) {
      const url = new URL(upload.putUrl);
      url.searchParams.set("X-Amz-SignedHeaders", names);
      const res = await SELF.fetch(url.toString(), {
        method: "PUT",
        headers: upload.headers,
        body: AUDIO,
      });
      expect(res.status, names).toBe(403);
    }
    expect(await env.MEDIA.head(keyOf(owner, upload))).toBeNull();
  });

  it("cannot be written through another upload's URL (the signature binds the key)", async () => {
    const owner = await register();
    const intruder = await register();
    const theirs = await created(owner);
    const mine = await created(intruder);
    const forged = mine.putUrl
      .replace(mine.uploadId, theirs.uploadId)
      .replace(intruder.id, owner.id);
    const res = await SELF.fetch(forged, { method: "PUT", headers: mine.headers, body: AUDIO });
    expect(res.status).toBe(403);
    expect(await env.MEDIA.head(keyOf(owner, theirs))).toBeNull();
  });
});
