/**
 * Crashes in the middle of a job, through the whole local stack (api under a supervised
 * `wrangler dev`, the transcoder as its own supervised process): an ffmpeg process killed as
 * the OOM killer would, the transcoder killed, the api's runtime killed. Each upload must end
 * `ready` exactly once, with no duplicate track and no object left that nothing owns.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { getPlatformProxy } from "wrangler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeMaterial } from "@edge-music/testkit/lavfi-media";
import { ROOT } from "../../scripts/lib/setup.mjs";
import { apiCall, registerAccount, sendUpload } from "./client";
import { startStack, type Stack } from "./stack";
import type { Upload } from "@edge-music/core/api-contract";

/** Short, so a job whose consumer died is taken up again within the test. */
const LEASE_SECONDS = 20;
const CLEANUP_CRON = "*/15 * * * *";

let stack: Stack;
let dir: string;
let token: string;

/** The upload's view; undefined while the api is down (it is being restarted). */
async function view(id: string): Promise<Upload | undefined> {
  try {
    return await apiCall<Upload>(stack, token, "GET", `/v1/uploads/${id}`);
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Uploads a 2-minute tonal track and returns once its transcode is under way. */
async function startUpload(name: string, root: number): Promise<string> {
  const file = path.join(dir, `${name}.flac`);
  makeMaterial(file, 120, "chord", { root });
  const id = await sendUpload(stack, token, file, { title: name });
  await until("the transcode to start", async () => {
    const v = await view(id);
    return v?.progress.stage === "transcoding" ? true : undefined;
  });
  return id;
}

const ready = (id: string) =>
  until(`upload ${id} to end`, async () => {
    const v = await view(id);
    return v && (v.state === "ready" || v.state === "failed") ? v : undefined;
  });

/** Process ids of `root` and all its descendants, with their command names. */
function tree(root: number): { pid: number; comm: string }[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,comm="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm: comm ?? "" }));
  const found = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows)
      if (found.has(r.ppid) && !found.has(r.pid)) {
        found.add(r.pid);
        grew = true;
      }
  }
  return rows.filter((r) => found.has(r.pid));
}

beforeAll(async () => {
  stack = await startStack({
    transcoder: "process",
    vars: { INGEST_LEASE_SECONDS: String(LEASE_SECONDS) },
  });
  dir = await mkdtemp(path.join(tmpdir(), "e2e-chaos-"));
  token = await registerAccount(stack, "chaos@e2e.local", "Chaos");
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a job interrupted by a crash is retried and ends ready once", () => {
  const uploads: string[] = [];

  it("an ffmpeg process killed mid-job (as the OOM killer would)", async () => {
    const id = await startUpload("Killed ffmpeg", 196);
    uploads.push(id);
    const transcoder = stack.transcoderPid?.() ?? 0;
    const ffmpeg = tree(transcoder).filter((p) => p.comm === "ffmpeg");
    expect(ffmpeg.length).toBeGreaterThan(0);
    process.kill(ffmpeg[0]?.pid ?? 0, "SIGKILL");
    const end = await ready(id);
    expect(end).toMatchObject({ state: "ready", failure: null });
    expect(end.progress.attempt).toBe(2);
  }, 180_000);

  it("the transcoder killed mid-job: npm start's supervisor brings it back", async () => {
    const id = await startUpload("Killed transcoder", 247);
    uploads.push(id);
    const before = stack.transcoderPid?.() ?? 0;
    process.kill(-before, "SIGKILL");
    const end = await ready(id);
    expect(end).toMatchObject({ state: "ready", failure: null });
    expect(end.progress.attempt).toBe(2);
    expect(stack.transcoderPid?.()).not.toBe(before);
  }, 180_000);

  it("the api's runtime killed mid-job: the lease lapses and the cleanup cron queues it again", async () => {
    const id = await startUpload("Killed api", 294);
    uploads.push(id);
    const before = stack.apiPid() ?? 0;
    process.kill(-before, "SIGKILL");
    // The supervisor starts it again on the same state; the job's caller is gone, so the
    // transcoder stopped it. Once the lease is over, the cron takes it up again.
    await until("the api to come back", async () => ((await view(id)) ? true : undefined));
    expect(stack.apiPid()).not.toBe(before);
    const end = await until(
      "the job to be taken up again",
      async () => {
        const v = await view(id);
        if (v?.state === "ready" || v?.state === "failed") return v;
        if (v?.state === "processing" && v.progress.attempt === 1) {
          await stack.cron(CLEANUP_CRON).catch(() => undefined);
        }
        await new Promise((r) => setTimeout(r, 1000));
        return undefined;
      },
      LEASE_SECONDS * 1000 + 120_000,
    );
    expect(end).toMatchObject({ state: "ready", failure: null });
    expect(end.progress.attempt).toBe(2);
  }, 240_000);

  it("left one track per upload and no object that nothing owns", async () => {
    expect(uploads).toHaveLength(3);
    // The dead attempts' prefixes are swept once their leases are over.
    await new Promise((r) => setTimeout(r, 1000));
    await stack.cron(CLEANUP_CRON);
    await stack.stopApi();
    const proxy = await getPlatformProxy<{ DB: D1Database; MEDIA: R2Bucket }>({
      configPath: path.join(ROOT, "wrangler.toml"),
      persist: { path: path.join(stack.persistTo, "v3") },
    });
    try {
      const { DB, MEDIA } = proxy.env;
      const assets = (
        await DB.prepare(
          "SELECT a.id, a.track_id, a.upload_id FROM asset_versions a JOIN tracks t ON t.id = a.track_id",
        ).all<{ id: string; track_id: string; upload_id: string }>()
      ).results;
      expect(assets.map((a) => a.upload_id).sort()).toEqual([...uploads].sort());
      expect(new Set(assets.map((a) => a.track_id)).size).toBe(3);
      const tracks = await DB.prepare("SELECT count(*) AS n FROM tracks").first<{ n: number }>();
      expect(tracks?.n).toBe(3);
      const objects: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await MEDIA.list(cursor ? { cursor } : {});
        objects.push(...page.objects.map((o) => o.key));
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      const sources = (
        await DB.prepare("SELECT object_key FROM uploads WHERE object_key IS NOT NULL").all<{
          object_key: string;
        }>()
      ).results.map((r) => r.object_key);
      const owned = (key: string) =>
        sources.includes(key) ||
        assets.some((a) => key.startsWith(`tracks/${a.track_id}/${a.id}/`));
      expect(objects.filter((key) => key.startsWith("tracks/")).length).toBeGreaterThan(0);
      expect(objects.filter((key) => !owned(key))).toEqual([]);
    } finally {
      await proxy.dispose();
    }
  }, 120_000);
});
