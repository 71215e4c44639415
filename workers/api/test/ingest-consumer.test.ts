import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { readConfig } from "../src/lib/config";
import { buildServices } from "../src/features";
import { ABANDONED_UPLOAD_MS, QUEUED_STALE_MS } from "../src/scheduled/cleanup";
import { UPLOAD_CLEANUP_CRON } from "../src/scheduled";
import { register, runCron } from "./helpers";

const services = () => buildServices(env, readConfig(env));

/** An upload row in `state` with its source object in R2. */
async function seedUpload(
  state: string,
  extra: { attempts?: number; leaseUntil?: number; expiresAt?: number } = {},
) {
  const user = await register();
  const id = `upl_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const key = `uploads/${user.id}/${id}/source`;
  await env.MEDIA.put(key, new Uint8Array(100));
  await env.DB.prepare(
    `INSERT INTO uploads (id, user_id, filename, content_type, size_bytes, object_key, state, attempts, lease_until, expires_at)
     VALUES (?, ?, 'a.flac', 'audio/flac', 100, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      user.id,
      key,
      state,
      extra.attempts ?? 0,
      extra.leaseUntil ?? null,
      extra.expiresAt ?? Date.now() + 900_000,
    )
    .run();
  return { id, key };
}

const row = (id: string) =>
  env.DB.prepare("SELECT state, attempts, object_key, failure_code FROM uploads WHERE id = ?")
    .bind(id)
    .first<{
      state: string;
      attempts: number;
      object_key: string | null;
      failure_code: string | null;
    }>();

/** A prefix recorded for sweeping from `at` on, as an ingest attempt records the one it writes to. */
const recordDue = (prefix: string, at: number) =>
  env.DB.prepare(
    "INSERT INTO storage_deletions (prefix, requested_at, sweep_until) VALUES (?, ?, ?)",
  )
    .bind(prefix, at, at)
    .run();

describe("ingest consumer", () => {
  it("lets only one of two concurrent consumers take a job", async () => {
    const { id } = await seedUpload("queued");
    const outcomes = await Promise.all([
      services().ingest.process(id),
      services().ingest.process(id),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["ignored", "retry"]);
    expect((await row(id))?.attempts).toBe(1);
  });

  it("ignores a redelivered message for a job already done or taken", async () => {
    const ready = await seedUpload("ready");
    expect(await services().ingest.process(ready.id)).toEqual({ kind: "ignored" });
    const leased = await seedUpload("processing", { leaseUntil: Date.now() + 60_000 });
    expect(await services().ingest.process(leased.id)).toEqual({ kind: "ignored" });
    expect((await row(leased.id))?.attempts).toBe(0);
  });

  it("takes over a job whose lease ran out", async () => {
    const stale = await seedUpload("processing", { leaseUntil: Date.now() - 1, attempts: 0 });
    expect((await services().ingest.process(stale.id)).kind).toBe("retry");
  });

  it("retries with backoff, then fails for good and deletes the source", async () => {
    const { id, key } = await seedUpload("queued");
    const first = await services().ingest.process(id);
    expect(first).toEqual({ kind: "retry", delaySeconds: 10 });
    expect(await row(id)).toMatchObject({
      state: "queued",
      failure_code: "TRANSCODER_UNAVAILABLE",
    });
    expect(await services().ingest.process(id)).toEqual({ kind: "failed" });
    expect(await row(id)).toMatchObject({
      state: "failed",
      object_key: null,
      failure_code: "TRANSCODER_UNAVAILABLE",
    });
    expect(await env.MEDIA.head(key)).toBeNull();
  });

  it("acknowledges messages it cannot read, and retries transient failures through the queue", async () => {
    const { id } = await seedUpload("queued");
    const batch = createMessageBatch("edge-music-ingest", [
      { id: "bad", timestamp: new Date(), attempts: 1, body: { hello: "world" } },
      { id: "good", timestamp: new Date(), attempts: 1, body: { version: 1, uploadId: id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["bad"]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["good"]);
  });

  it("fails dead-lettered uploads with a reason", async () => {
    const { id, key } = await seedUpload("queued");
    const batch = createMessageBatch("edge-music-ingest-dlq", [
      { id: "m", timestamp: new Date(), attempts: 6, body: { version: 1, uploadId: id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m"]);
    expect(await row(id)).toMatchObject({
      state: "failed",
      failure_code: "GAVE_UP",
      object_key: null,
    });
    expect(await env.MEDIA.head(key)).toBeNull();
  });
});

describe("upload cleanup cron", () => {
  it("removes uploads never completed for a day and fails stuck jobs, deleting their objects", async () => {
    const abandoned = await seedUpload("awaiting_upload", {
      expiresAt: Date.now() - ABANDONED_UPLOAD_MS - 1000,
    });
    const recent = await seedUpload("awaiting_upload");
    const stuck = await seedUpload("processing", { attempts: 2, leaseUntil: Date.now() - 1000 });
    const retrying = await seedUpload("processing", { attempts: 1, leaseUntil: Date.now() + 1000 });
    await runCron(UPLOAD_CLEANUP_CRON);
    expect(await row(abandoned.id)).toBeNull();
    expect(await env.MEDIA.head(abandoned.key)).toBeNull();
    expect(await row(recent.id)).toMatchObject({ state: "awaiting_upload" });
    expect(await row(stuck.id)).toMatchObject({
      state: "failed",
      failure_code: "STUCK",
      object_key: null,
    });
    expect(await env.MEDIA.head(stuck.key)).toBeNull();
    expect(await row(retrying.id)).toMatchObject({ state: "processing" });
  });

  it("queues again a job whose consumer died (lease over, attempts left) or whose message was lost, and nothing else", async () => {
    const died = await seedUpload("processing", { attempts: 1, leaseUntil: Date.now() - 1000 });
    const working = await seedUpload("processing", {
      attempts: 1,
      leaseUntil: Date.now() + 60_000,
    });
    const lost = await seedUpload("queued");
    const waiting = await seedUpload("queued");
    await env.DB.prepare("UPDATE uploads SET updated_at = ? WHERE id = ?")
      .bind(Date.now() - QUEUED_STALE_MS - 1000, lost.id)
      .run();
    const sent: unknown[] = [];
    const queue = {
      send: async (body: unknown) => void sent.push(body),
      sendBatch: async (messages: { body: unknown }[]) =>
        void sent.push(...messages.map((m) => m.body)),
    } as unknown as Queue;
    await runCron(UPLOAD_CLEANUP_CRON, { ...env, INGEST_QUEUE: queue });
    expect(sent).toHaveLength(2);
    expect(sent).toEqual(
      expect.arrayContaining([
        { version: 1, uploadId: died.id },
        { version: 1, uploadId: lost.id },
      ]),
    );
    expect(await row(died.id)).toMatchObject({ state: "queued", attempts: 1 });
    expect(await row(working.id)).toMatchObject({ state: "processing" });
    expect(await row(waiting.id)).toMatchObject({ state: "queued" });
    // Taken again, the job counts its next attempt; the message is not sent twice.
    await runCron(UPLOAD_CLEANUP_CRON, { ...env, INGEST_QUEUE: queue });
    expect(sent).toHaveLength(2);
  });

  it("sweeps the prefix a dead attempt wrote to once its lease is over, not before", async () => {
    const prefix = `tracks/trk_sweeptest/av_${crypto.randomUUID().slice(0, 8)}/`;
    const leaseUntil = Date.now() + 60_000;
    const sweeps = services().sweeps;
    await recordDue(prefix, leaseUntil);
    await env.MEDIA.put(`${prefix}aac_64/media.mp4`, "partial");
    await sweeps.run();
    expect(await env.MEDIA.head(`${prefix}aac_64/media.mp4`)).not.toBeNull();
    expect(await sweeps.run(leaseUntil + 1)).toBeGreaterThanOrEqual(1);
    expect(await env.MEDIA.head(`${prefix}aac_64/media.mp4`)).toBeNull();
    const left = await env.DB.prepare("SELECT 1 FROM storage_deletions WHERE prefix = ?")
      .bind(prefix)
      .first();
    expect(left).toBeNull();
  });

  it("only logs in dry-run mode", async () => {
    const abandoned = await seedUpload("awaiting_upload", {
      expiresAt: Date.now() - ABANDONED_UPLOAD_MS - 1000,
    });
    await runCron(UPLOAD_CLEANUP_CRON, { ...env, CLEANUP_DRY_RUN: "true" });
    expect(await row(abandoned.id)).toMatchObject({ state: "awaiting_upload" });
    expect(await env.MEDIA.head(abandoned.key)).not.toBeNull();
  });
});

describe("publishing", () => {
  /** A finished transcode's result, as the transcoder reports it. */
  const result = {
    durationSeconds: 30,
    renditions: [
      {
        id: "aac_64",
        codecs: "mp4a.40.2",
        bandwidth: 70_000,
        averageBandwidth: 66_000,
        sizeBytes: 250_000,
        fragments: 5,
      },
    ],
    loudness: { integratedLufs: -12, lraLu: 5, truePeakDbfs: -1, gainDb: -2 },
    waveform: { samplesPerPixel: 2205, sampleRate: 44_100, length: 600 },
    fingerprint: "AQAAfingerprint",
    tags: { title: "Guarded" },
    files: ["master.m3u8"],
  };

  /** IngestService's publish step on its own (what a consumer runs after a transcode). */
  const publish = (upload: unknown, leaseUntil: number, trackId: string) =>
    (Reflect.get(services().ingest, "publish") as (...args: unknown[]) => Promise<void>).call(
      services().ingest,
      upload,
      leaseUntil,
      trackId,
      `av_${trackId}`,
      result,
    );

  it("applies only while the consumer's lease holds: a cancelled upload or a lost lease adds nothing", async () => {
    const leaseUntil = Date.now() + 600_000;
    const cancelled = await seedUpload("processing", { leaseUntil });
    const lost = await seedUpload("processing", { leaseUntil: leaseUntil + 1 });
    const upload = async (id: string) =>
      env.DB.prepare("SELECT * FROM uploads WHERE id = ?").bind(id).first();
    const cancelledRow = {
      ...(await upload(cancelled.id)),
      id: cancelled.id,
      userId: (await upload(cancelled.id))?.["user_id"],
      artistId: null,
      albumId: null,
      visibility: "private",
      title: null,
      filename: "a.flac",
    };
    await env.DB.prepare("DELETE FROM uploads WHERE id = ?").bind(cancelled.id).run();
    await expect(publish(cancelledRow, leaseUntil, "trk_cancelled")).rejects.toThrow();
    const lostRow = { ...cancelledRow, id: lost.id, userId: (await upload(lost.id))?.["user_id"] };
    await expect(publish(lostRow, leaseUntil, "trk_lost")).rejects.toThrow();
    const tracks = await env.DB.prepare(
      "SELECT count(*) AS n FROM tracks WHERE id IN ('trk_cancelled', 'trk_lost')",
    ).first<{ n: number }>();
    expect(tracks?.n).toBe(0);
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM lease_checks").first<{ n: number }>())?.n,
    ).toBe(0);
    // The prefix the lost attempt wrote to stays recorded for sweeping.
    const pending = (trackId: string) =>
      env.DB.prepare("SELECT 1 FROM storage_deletions WHERE prefix = ?")
        .bind(`tracks/${trackId}/av_${trackId}/`)
        .first();
    await recordDue("tracks/trk_lost/av_trk_lost/", leaseUntil);
    await recordDue("tracks/trk_held/av_trk_held/", leaseUntil);
    // With the lease, the same publish goes through, and leaves no guard row behind.
    const held = await seedUpload("processing", { leaseUntil });
    await publish(
      { ...lostRow, id: held.id, userId: (await upload(held.id))?.["user_id"] },
      leaseUntil,
      "trk_held",
    );
    expect(await row(held.id)).toMatchObject({ state: "ready" });
    // Published, the prefix belongs to the asset: no sweep will ever empty it.
    expect(await pending("trk_held")).toBeNull();
    expect(await pending("trk_lost")).not.toBeNull();
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM lease_checks").first<{ n: number }>())?.n,
    ).toBe(0);
  });
});
