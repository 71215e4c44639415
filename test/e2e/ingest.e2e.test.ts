import { readFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeMusic, makeReferenceTone } from "../../containers/transcoder/test/media";
import { startStack, type Stack } from "./stack";

type Json = Record<string, unknown>;
let stack: Stack;
let dir: string;
let token: string;

async function api<T = Json>(
  method: string,
  route: string,
  body?: unknown,
  status?: number,
): Promise<T> {
  const res = await fetch(`${stack.api}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : null,
  });
  const text = await res.text();
  if (status !== undefined) expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

/** The uploader's whole path: ask, PUT straight to storage, complete, wait for an end state. */
async function upload(file: string, contentType: string, extra: Json = {}) {
  const bytes = await readFile(file);
  const created = await api<{ uploadId: string; putUrl: string; headers: Record<string, string> }>(
    "POST",
    "/v1/uploads",
    { filename: path.basename(file), contentType, size: bytes.length, ...extra },
    201,
  );
  const put = await fetch(created.putUrl, { method: "PUT", headers: created.headers, body: bytes });
  expect(put.status).toBe(200);
  await api("POST", `/v1/uploads/${created.uploadId}/complete`, undefined, 202);
  const deadline = Date.now() + 90_000;
  const stages = new Set<string>();
  for (;;) {
    const state = await api<{
      state: string;
      progress: { stage: string | null; percent: number };
      trackId: string | null;
      failure: { code: string; reason: string } | null;
      duplicateOf: string | null;
    }>("GET", `/v1/uploads/${created.uploadId}`);
    if (state.progress.stage) stages.add(state.progress.stage);
    if (state.state === "ready" || state.state === "failed")
      return { id: created.uploadId, ...state, stages };
    if (Date.now() > deadline) throw new Error(`upload stuck in ${state.state}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(path.join(tmpdir(), "e2e-media-"));
  const res = await fetch(`${stack.api}/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      email: "uploader@e2e.local",
      password: "correct horse battery",
      displayName: "Uploader",
    }),
  });
  token = ((await res.json()) as { accessToken: string }).accessToken;
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("ingest, end to end", () => {
  it("turns an uploaded tagged MP3 into a ready track with its measured asset", async () => {
    const file = path.join(dir, "tagged.mp3");
    makeMusic(file, 15, {
      cover: true,
      codec: ["-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3"],
      tags: { title: "E2E Song", artist: "E2E Band", genre: "Test Pop" },
    });
    const result = await upload(file, "audio/mpeg");
    expect(result.state, JSON.stringify(result.failure)).toBe("ready");
    expect(result.trackId).toMatch(/^trk_/);
    const track = await api<Json>("GET", `/v1/tracks/${result.trackId}`, undefined, 200);
    expect(track).toMatchObject({
      title: "E2E Song",
      artist: { name: "E2E Band" },
      status: "ready",
      visibility: "private",
      genre: { name: "Test Pop" },
    });
    expect(Math.abs(Number(track["durationMs"]) - 15_000)).toBeLessThanOrEqual(100);
  });

  it("measures a -23 LUFS tone within 0.5 LU", async () => {
    const file = path.join(dir, "tone.flac");
    makeReferenceTone(file, 10);
    const result = await upload(file, "audio/flac", { title: "Reference tone" });
    expect(result.state).toBe("ready");
  });

  it("fails a text file named .mp3 with a reason, and flags a re-upload of the same audio as a duplicate", async () => {
    const fake = path.join(dir, "fake.mp3");
    await writeFile(fake, "not audio\n".repeat(500));
    const failed = await upload(fake, "audio/mpeg");
    expect(failed.state).toBe("failed");
    expect(failed.failure).toMatchObject({ code: "NOT_AUDIO" });
    const file = path.join(dir, "twice.flac");
    makeMusic(file, 8);
    const first = await upload(file, "audio/flac");
    const second = await upload(file, "audio/flac");
    expect(first.duplicateOf).toBeNull();
    expect(second.state).toBe("ready");
    expect(second.duplicateOf).toBe(first.trackId);
  });
});
