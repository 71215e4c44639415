import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ASSET_OUTPUT_NAMES } from "@edge-music/core/renditions";
import { TranscodeEventSchema } from "@edge-music/core/transcode-contract";
import { makeMusic } from "@edge-music/testkit/lavfi-media";
import { startServer } from "./server.js";

/** The ffmpeg processes of one job: their command lines name its scratch folder. */
function jobProcesses(jobId: string): number[] {
  const run = spawnSync("pgrep", ["-f", `ffmpeg.*job-${jobId}-`], { encoding: "utf8" });
  return run.stdout.split("\n").filter(Boolean).map(Number);
}

const scratchFolders = async (jobId: string) =>
  (await readdir(tmpdir())).filter((name) => name.startsWith(`job-${jobId}-`));

async function until<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a job's processes under faults", () => {
  let transcoder: Server;
  let sources: Server;
  let base: string;
  let source: Buffer;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "chaos-"));
    const file = path.join(dir, "long.flac");
    // Long enough that the job is still encoding when the fault comes.
    makeMusic(file, 240);
    source = await readFile(file);
    transcoder = await startServer(0, { secret: "chaos" });
    base = `http://127.0.0.1:${(transcoder.address() as AddressInfo).port}`;
    sources = createServer((req, res) => {
      if (req.method === "GET") res.writeHead(200, { "Content-Length": source.length }).end(source);
      else req.resume().on("end", () => res.writeHead(200).end());
    });
    await new Promise<void>((r) => sources.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    await new Promise((r) => transcoder.close(r));
    await new Promise((r) => sources.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts a job and returns once it is encoding. */
  async function started(jobId: string, controller = new AbortController()) {
    const store = `http://127.0.0.1:${(sources.address() as AddressInfo).port}`;
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      signal: controller.signal,
      headers: { Authorization: "Bearer chaos", "Content-Type": "application/json" },
      body: JSON.stringify({
        version: 1,
        jobId,
        source: { url: `${store}/source`, sizeBytes: source.length },
        outputs: Object.fromEntries(ASSET_OUTPUT_NAMES.map((n) => [n, `${store}/out/${n}`])),
        limits: { maxDurationSeconds: 7200 },
      }),
    });
    const reader = res.body?.getReader();
    if (!reader) throw new Error("no body");
    let text = "";
    while (!text.includes('"transcoding"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`job ended early: ${text}`);
      text += new TextDecoder().decode(value);
    }
    await until(
      () => jobProcesses(jobId),
      (p) => p.length >= 2,
      5000,
    );
    return { reader, text, controller };
  }

  it("a killed ffmpeg is a crash to retry, not bad input", async () => {
    const { reader } = await started("crashing");
    const [victim] = jobProcesses("crashing").slice(-1);
    expect(victim).toBeDefined();
    process.kill(victim ?? 0, "SIGKILL");
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const last = TranscodeEventSchema.parse(JSON.parse(text.trim().split("\n").at(-1) ?? "{}"));
    expect(last).toMatchObject({ type: "failed", code: "TRANSCODE_CRASHED", retryable: true });
    expect(jobProcesses("crashing")).toEqual([]);
  }, 60_000);

  it("a caller that goes away stops the job's processes within 2 s and leaves no scratch files", async () => {
    const { controller } = await started("abandoned");
    expect(jobProcesses("abandoned").length).toBeGreaterThanOrEqual(2);
    expect(await scratchFolders("abandoned")).toHaveLength(1);
    const gone = Date.now();
    controller.abort();
    const left = await until(
      () => jobProcesses("abandoned"),
      (p) => p.length === 0,
      2000,
    );
    expect(left).toEqual([]);
    expect(Date.now() - gone).toBeLessThan(2000);
    expect(
      await until(
        () => scratchFolders("abandoned"),
        (f) => f.length === 0,
        2000,
      ),
    ).toEqual([]);
    // The transcoder is free for the next job.
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
  }, 60_000);
});
