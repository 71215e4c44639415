import { mkdtemp, readFile, rm, stat, truncate } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ASSET_OUTPUT_NAMES } from "@edge-music/core/renditions";
import { TranscodeEventSchema, type TranscodeEvent } from "@edge-music/core/transcode-contract";
import { spawnSync } from "node:child_process";
import { makeMusic } from "@edge-music/testkit/lavfi-media";
import { runJob } from "./job.js";
import { startServer } from "./server.js";

/**
 * A stand-in for R2's presigned URLs (which cannot exist offline in a Node test): serves
 * sources by GET and records PUTs with their content types. The api's own SigV4-checking
 * route is exercised by the end-to-end tests.
 */
function storage() {
  const objects = new Map<string, { body: Buffer; contentType: string }>();
  const server = createServer(async (req, res) => {
    const key = decodeURIComponent(new URL(req.url ?? "/", "http://s").pathname.slice(1));
    if (req.method === "PUT") {
      const chunks: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
      objects.set(key, {
        body: Buffer.concat(chunks),
        contentType: req.headers["content-type"] ?? "",
      });
      res.writeHead(200).end();
    } else {
      const object = objects.get(key);
      if (!object) return void res.writeHead(404).end();
      res.writeHead(200, { "Content-Length": object.body.length }).end(object.body);
    }
  });
  return { server, objects };
}

const ffmpeg = (args: string[]) => {
  const run = spawnSync("ffmpeg", ["-nostdin", "-loglevel", "error", ...args, "-y"]);
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${String(run.stderr)}`);
};

describe("POST /jobs", () => {
  let transcoder: Server;
  let store: ReturnType<typeof storage>;
  let base: string;
  let storeBase: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "job-test-"));
    transcoder = await startServer(0, { secret: "test-secret" });
    base = `http://127.0.0.1:${(transcoder.address() as AddressInfo).port}`;
    store = storage();
    await new Promise<void>((r) => store.server.listen(0, "127.0.0.1", r));
    storeBase = `http://127.0.0.1:${(store.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => transcoder.close(r));
    await new Promise((r) => store.server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  /** A job as the api sends it: the source stored under `sourceKey`, outputs to the stand-in. */
  const jobRequest = (sourceKey: string, sizeBytes: number, maxDurationSeconds = 7200) => {
    const jobId = sourceKey.replace(/\W/g, "");
    return {
      version: 1 as const,
      jobId,
      source: { url: `${storeBase}/${sourceKey}`, sizeBytes: Math.max(1, sizeBytes) },
      outputs: Object.fromEntries(
        ASSET_OUTPUT_NAMES.map((n) => [n, `${storeBase}/out/${jobId}/${n}`]),
      ),
      limits: { maxDurationSeconds },
    };
  };

  async function submit(
    sourceKey: string,
    body: Buffer,
    extra: { maxDurationSeconds?: number } = {},
  ) {
    store.objects.set(sourceKey, { body, contentType: "application/octet-stream" });
    const request = jobRequest(sourceKey, body.length, extra.maxDurationSeconds);
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { Authorization: "Bearer test-secret", "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const events = (await res.text())
      .trim()
      .split("\n")
      .map((line) => TranscodeEventSchema.parse(JSON.parse(line)));
    return {
      jobId: request.jobId,
      events,
      result: events.at(-1) as Extract<TranscodeEvent, { type: "done" | "failed" }>,
    };
  }

  it("refuses a missing or wrong secret", async () => {
    for (const auth of [undefined, "Bearer nope", "Bearer test-secret-but-longer", "test-secret"]) {
      const res = await fetch(`${base}/jobs`, {
        method: "POST",
        headers: auth ? { Authorization: auth } : {},
        body: "{}",
      });
      expect(res.status).toBe(401);
    }
  });

  it("refuses a malformed job", async () => {
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { Authorization: "Bearer test-secret" },
      body: JSON.stringify({ version: 2 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("transcodes a tagged source, reports progress and PUTs every output with its type", async () => {
    const file = path.join(dir, "song.flac");
    makeMusic(file, 14, { tags: { title: "Job Song", artist: "Job Band" }, cover: false });
    const { jobId, events, result } = await submit("uploads/song", await readFile(file));
    expect(result.type, JSON.stringify(result)).toBe("done");
    if (result.type !== "done") return;
    const stages = new Set(
      events.filter((e) => e.type === "progress").map((e) => (e as { stage: string }).stage),
    );
    expect([...stages]).toEqual(
      expect.arrayContaining(["downloading", "probing", "transcoding", "uploading"]),
    );
    expect(result.result.tags).toMatchObject({ title: "Job Song", artist: "Job Band" });
    expect(result.result.files).not.toContain("cover.jpg");
    for (const name of result.result.files) {
      const object = store.objects.get(`out/${jobId}/${name}`);
      expect(object, name).toBeDefined();
    }
    expect(store.objects.get(`out/${jobId}/master.m3u8`)?.contentType).toBe(
      "application/vnd.apple.mpegurl",
    );
    expect(store.objects.get(`out/${jobId}/manifest.mpd`)?.contentType).toBe(
      "application/dash+xml",
    );
    expect(store.objects.get(`out/${jobId}/aac_128/media.mp4`)?.contentType).toBe("audio/mp4");
  }, 60_000);

  it.each([
    [
      "a text file named .mp3",
      async () => Buffer.from("this is not audio at all\n".repeat(100)),
      "NOT_AUDIO",
    ],
    [
      "a truncated mp3",
      async () => {
        const file = path.join(dir, "cut.mp3");
        makeMusic(file, 30, { codec: ["-c:a", "libmp3lame", "-b:a", "128k"] });
        await truncate(file, Math.floor((await stat(file)).size / 3));
        return readFile(file);
      },
      "UNREADABLE",
    ],
    [
      "an HLS playlist naming a local file",
      async () => Buffer.from(`#EXTM3U\n#EXTINF:2,\n${path.join(dir, "song.flac")}\n`),
      "PLAYLIST",
    ],
    [
      "a concat list",
      async () => Buffer.from(`ffconcat version 1.0\nfile '${path.join(dir, "song.flac")}'\n`),
      "PLAYLIST",
    ],
    [
      "a picture",
      async () => {
        const file = path.join(dir, "picture.png");
        ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", file]);
        return readFile(file);
      },
      "IMAGE",
    ],
    [
      "a video with no sound",
      async () => {
        const file = path.join(dir, "silent.mp4");
        ffmpeg(["-f", "lavfi", "-i", "testsrc=d=1:s=64x64", "-c:v", "mpeg4", file]);
        return readFile(file);
      },
      "NO_AUDIO_STREAM",
    ],
    [
      "audio in a container we do not take (Matroska)",
      async () => {
        const file = path.join(dir, "song.mka");
        makeMusic(file, 2);
        return readFile(file);
      },
      "UNSUPPORTED_FORMAT",
    ],
    [
      "a FLAC whose header declares 10 s and which holds 60 s",
      async () => {
        const file = path.join(dir, "liar.flac");
        makeMusic(file, 60);
        const bytes = await readFile(file);
        // STREAMINFO's total samples (36 bits from byte 21): 10 s at 44.1 kHz.
        const lie = 441_000;
        bytes[21] = ((bytes[21] ?? 0) & 0xf0) | Math.floor(lie / 2 ** 32);
        bytes.writeUInt32BE(lie % 2 ** 32, 22);
        return bytes;
      },
      "LENGTH_MISMATCH",
    ],
    [
      "a file with no audio in it",
      async () => {
        const file = path.join(dir, "empty.wav");
        makeMusic(file, 0.001);
        return readFile(file);
      },
      "EMPTY",
    ],
  ])(
    "refuses %s with a reason",
    async (_name, make, code) => {
      const { result } = await submit(`uploads/${code}`, await make());
      expect(result.type).toBe("failed");
      if (result.type !== "failed") return;
      expect(result.code).toBe(code);
      expect(result.reason.length).toBeGreaterThan(10);
      expect(result.retryable).toBe(false);
    },
    60_000,
  );

  it("re-packages a published version's clear renditions as encrypted ones, decoding nothing", async () => {
    const file = path.join(dir, "clear.flac");
    makeMusic(file, 12, { cover: false });
    const clear = await submit("uploads/clear", await readFile(file));
    expect(clear.result.type).toBe("done");
    const key = {
      keyId: "0123456789abcdef0123456789abcdef",
      key: "fedcba9876543210fedcba9876543210",
    };
    const ids = ["aac_64", "aac_128", "aac_256", "flac"] as const;
    const names = ids.flatMap((id) => [`${id}/media.mp4`, `${id}/index.m3u8`]);
    const request = {
      version: 1,
      kind: "repackage",
      jobId: "repack1",
      renditions: ids.map((id) => ({
        id,
        url: `${storeBase}/out/${clear.jobId}/${id}/media.mp4`,
        sizeBytes: store.objects.get(`out/${clear.jobId}/${id}/media.mp4`)?.body.length ?? 0,
      })),
      outputs: Object.fromEntries(
        [...names, "master.m3u8", "manifest.mpd"].map((n) => [n, `${storeBase}/repack1/${n}`]),
      ),
      protection: { scheme: "cbcs", ...key },
    };
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { Authorization: "Bearer test-secret", "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
    const events = (await res.text())
      .trim()
      .split("\n")
      .map((line) => TranscodeEventSchema.parse(JSON.parse(line)));
    const last = events.at(-1);
    expect(last?.type, JSON.stringify(last)).toBe("repackaged");
    if (last?.type !== "repackaged") return;
    expect(last.result.protection).toEqual({ scheme: "cbcs", keyId: key.keyId });
    expect(last.result.files.sort()).toEqual([...names, "master.m3u8", "manifest.mpd"].sort());
    // Each new file decodes with the key to exactly the old file's audio.
    for (const id of ids) {
      const decode = (name: string, body: Buffer, extra: string[]) => {
        const at = path.join(dir, name);
        return import("node:fs/promises")
          .then((fs) => fs.writeFile(at, body))
          .then(() =>
            spawnSync("ffmpeg", ["-v", "error", ...extra, "-i", at, "-f", "md5", "-"], {
              encoding: "utf8",
            }).stdout.trim(),
          );
      };
      const before = store.objects.get(`out/${clear.jobId}/${id}/media.mp4`)?.body ?? Buffer.of();
      const after = store.objects.get(`repack1/${id}/media.mp4`)?.body ?? Buffer.of();
      const expected = await decode(`${id}-before.mp4`, before, []);
      expect(expected).toMatch(/^MD5=/);
      expect(await decode(`${id}-after.mp4`, after, ["-decryption_key", key.key])).toBe(expected);
      expect(store.objects.get(`repack1/${id}/index.m3u8`)?.body.toString()).toContain(
        `KEYID=0x${key.keyId}`,
      );
    }
  });

  it("skips a cover above the pixel limit instead of decoding it, and keeps the track", async () => {
    const picture = path.join(dir, "huge.png");
    ffmpeg(["-f", "lavfi", "-i", "color=c=blue:s=6000x5000", "-frames:v", "1", picture]);
    const file = path.join(dir, "huge-cover.mp3");
    ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "sine=d=3",
      "-i",
      picture,
      "-map",
      "0:a",
      "-map",
      "1:v",
      "-c:a",
      "libmp3lame",
      "-c:v",
      "copy",
      "-disposition:v",
      "attached_pic",
      "-id3v2_version",
      "3",
      file,
    ]);
    const { result } = await submit("uploads/hugecover", await readFile(file));
    expect(result.type, JSON.stringify(result)).toBe("done");
    if (result.type === "done") expect(result.result.files).not.toContain("cover.jpg");
  }, 60_000);

  it("refuses audio longer than the limit", async () => {
    const file = path.join(dir, "long.flac");
    makeMusic(file, 8);
    const { result } = await submit("uploads/long", await readFile(file), {
      maxDurationSeconds: 5,
    });
    expect(result).toMatchObject({ type: "failed", code: "TOO_LONG" });
  }, 60_000);

  it("downloads while waiting for a transcode slot, and stores its outputs after leaving it", async () => {
    const file = path.join(dir, "slot.flac");
    makeMusic(file, 4);
    store.objects.set("uploads/slot", { body: await readFile(file), contentType: "audio/flac" });
    const events: TranscodeEvent[] = [];
    let open: () => void = () => undefined;
    const opened = new Promise<void>((r) => (open = r));
    const stagesInSlot: string[] = [];
    let inSlot = false;
    const job = runJob(
      jobRequest("uploads/slot", (await stat(file)).size, 60),
      (e) => {
        events.push(e);
        if (inSlot && e.type === "progress") stagesInSlot.push(e.stage);
      },
      undefined,
      async (task) => {
        await opened;
        inSlot = true;
        try {
          return await task();
        } finally {
          inSlot = false;
        }
      },
    );
    // The slot is still closed: the whole source is downloaded, nothing else has started.
    await expect
      .poll(() => events.some((e) => e.type === "progress" && e.percent === 100))
      .toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(new Set(events.map((e) => (e.type === "progress" ? e.stage : e.type)))).toEqual(
      new Set(["downloading"]),
    );
    open();
    await job;
    expect(events.at(-1)?.type).toBe("done");
    expect(stagesInSlot).toContain("transcoding");
    expect(stagesInSlot).not.toContain("uploading");
    expect(events.some((e) => e.type === "progress" && e.stage === "uploading")).toBe(true);
  }, 60_000);

  it("says the source is unavailable when its URL fails", async () => {
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { Authorization: "Bearer test-secret" },
      body: JSON.stringify({
        version: 1,
        jobId: "gone",
        source: { url: `${storeBase}/missing`, sizeBytes: 10 },
        outputs: {},
        limits: { maxDurationSeconds: 60 },
      }),
    });
    const last = (await res.text()).trim().split("\n").at(-1) ?? "";
    expect(JSON.parse(last)).toMatchObject({ type: "failed", code: "SOURCE_UNAVAILABLE" });
  });
});
