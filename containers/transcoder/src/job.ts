import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { TranscodeEvent, TranscodeJobRequest } from "@edge-music/core/transcode-contract";
import { limiter } from "@edge-music/core/limiter";
import { log } from "./log.js";
import { transcode } from "./media/pipeline.js";
import { decodeLimitSeconds } from "./media/ffmpeg-args.js";
import { probeSource } from "./media/probe.js";

export type Emit = (event: TranscodeEvent) => void;
type Failure = Extract<TranscodeEvent, { type: "failed" }>;

export const fail = (code: Failure["code"], reason: string, retryable: boolean): Failure => ({
  type: "failed",
  code,
  reason,
  retryable,
});

/** Streams the source to disk, refusing more bytes than were declared. */
export async function download(
  url: string,
  declaredBytes: number,
  to: string,
  emit: Emit,
  signal: AbortSignal,
): Promise<Failure | null> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (error) {
    signal.throwIfAborted();
    return fail("SOURCE_UNAVAILABLE", `The upload could not be fetched: ${String(error)}`, true);
  }
  if (!res.ok || !res.body) {
    return fail(
      "SOURCE_UNAVAILABLE",
      `The upload could not be fetched (HTTP ${res.status}).`,
      res.status >= 500,
    );
  }
  let received = 0;
  let lastPercent = -1;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > declaredBytes) return done(new Error("source larger than declared"));
      const percent = Math.floor((received / declaredBytes) * 100);
      if (percent !== lastPercent && percent % 5 === 0) {
        lastPercent = percent;
        emit({ type: "progress", stage: "downloading", percent });
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      meter,
      createWriteStream(to),
      { signal },
    );
  } catch (error) {
    signal.throwIfAborted();
    return fail(
      "SOURCE_UNAVAILABLE",
      `The upload could not be read in full: ${String(error)}`,
      true,
    );
  }
  return null;
}

/** PUTs one output file to its presigned URL, streamed from disk. */
async function upload(
  file: string,
  url: string,
  contentType: string,
  signal: AbortSignal,
): Promise<boolean> {
  const { size } = await stat(file);
  try {
    const res = await fetch(url, {
      method: "PUT",
      headers: { "Content-Type": contentType, "Content-Length": String(size) },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: "half",
      signal,
    } as RequestInit);
    await res.arrayBuffer();
    return res.ok;
  } catch (error) {
    signal.throwIfAborted();
    log("warn", "output upload failed", { error: String(error) });
    return false;
  }
}

/**
 * PUTs every file to the job's URL for its name, a few at a time, reporting progress.
 * Returns the failure to report, or null when all are stored.
 */
export async function storeOutputs(
  files: { name: string; contentType: string }[],
  urls: Record<string, string>,
  outDir: string,
  emit: Emit,
  signal: AbortSignal,
): Promise<Failure | null> {
  // The job's URLs by file name, as a Map: only names the api sent are found.
  const outputs = new Map(Object.entries(urls));
  const missing = files.filter((f) => !outputs.has(f.name));
  if (missing.length) {
    return fail(
      "OUTPUT_UPLOAD_FAILED",
      `No upload URL for ${missing.map((f) => f.name).join(", ")}.`,
      false,
    );
  }
  let uploaded = 0;
  let failed: string | null = null;
  const storing = limiter(PARALLEL_UPLOADS);
  await Promise.all(
    files.map((file) =>
      storing.run(async () => {
        if (failed) return;
        const ok = await upload(
          path.join(outDir, file.name),
          outputs.get(file.name) ?? "",
          file.contentType,
          signal,
        );
        if (!ok) failed ??= file.name;
        else
          emit({
            type: "progress",
            stage: "uploading",
            percent: Math.floor((++uploaded / files.length) * 100),
          });
      }),
    ),
  );
  return failed ? fail("OUTPUT_UPLOAD_FAILED", `Storing ${failed} failed.`, true) : null;
}

/**
 * The most a job may run, wall clock (documented in the README): two minutes plus an eighth of
 * the audio's length (8x realtime at worst), never more than 18 minutes, so a job always ends
 * before the api's 20-minute lease on it runs out. A job past it is stopped and retried.
 */
export function jobTimeLimitMs(audioSeconds: number): number {
  return Math.round(Math.min(18 * 60_000, 120_000 + (audioSeconds * 1000) / 8));
}

/** Runs a task when a transcode slot is free (the server's CPU limiter). */
export type Slot = <T>(task: () => Promise<T>) => Promise<T>;

/** Files stored at once: R2 takes parallel PUTs, and one at a time left the cores idle. */
const PARALLEL_UPLOADS = 4;

/**
 * Runs one job end to end, reporting progress through `emit`; the last event is the result.
 * `signal` aborts it (the caller went away or cancelled): its processes are killed at once,
 * its scratch folder removed, and nothing more is emitted. Only probing and transcoding wait
 * for `slot`: downloading and storing overlap other jobs' transcodes.
 */
export async function runJob(
  job: TranscodeJobRequest,
  emit: Emit,
  signal: AbortSignal = new AbortController().signal,
  slot: Slot = (task) => task(),
): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), `job-${job.jobId.replace(/[^\w-]/g, "")}-`));
  const started = Date.now();
  // The download gets the limit of the shortest job; the transcode and storing, the job's own.
  let deadline = AbortSignal.timeout(jobTimeLimitMs(0));
  const stop = () => AbortSignal.any([signal, deadline]);
  try {
    const sourcePath = path.join(work, "source");
    const downloadFailure = await download(
      job.source.url,
      job.source.sizeBytes,
      sourcePath,
      emit,
      stop(),
    );
    if (downloadFailure) return emit(downloadFailure);
    // Waiting for a transcode slot has no limit of its own (the api's lease bounds it).
    deadline = new AbortController().signal;
    const out = path.join(work, "out");
    const transcoded = await slot(async () => {
      stop().throwIfAborted();
      emit({ type: "progress", stage: "probing", percent: 0 });
      const probed = await probeSource(sourcePath, job.limits.maxDurationSeconds, stop());
      if (!probed.ok) return fail(probed.refusal.code, probed.refusal.reason, false);
      // The job's own limit, from when its transcode starts (waiting for a slot is not work).
      deadline = AbortSignal.timeout(jobTimeLimitMs(probed.source.durationSeconds));
      const outcome = await transcode(
        sourcePath,
        probed.source,
        out,
        (stage, percent) => emit({ type: "progress", stage, percent }),
        undefined,
        stop(),
        job.protection ? { keyId: job.protection.keyId, key: job.protection.key } : null,
      );
      return { source: probed.source, outcome };
    });
    stop().throwIfAborted();
    if ("type" in transcoded) return emit(transcoded);
    const { source, outcome } = transcoded;
    if (!outcome.ok) {
      const { detail, ...failure } = outcome.failure;
      log("warn", "transcode failed", {
        jobId: job.jobId,
        code: failure.code,
        retryable: failure.retryable,
        stderrTail: "stderrTail" in detail ? detail.stderrTail.slice(-500) : "",
      });
      return emit(failure);
    }
    const { result } = outcome;
    // A cut-off file still decodes, to less audio than its header promises; a lying one
    // holds more, and decoding stopped at the limit.
    const promised = source.durationSeconds;
    if (result.durationSeconds >= decodeLimitSeconds(promised) - 0.25) {
      return emit(
        fail(
          "LENGTH_MISMATCH",
          `The file declares ${promised.toFixed(1)} s of audio but holds more; its header does not match its contents. Export it again and upload that.`,
          false,
        ),
      );
    }
    if (result.durationSeconds < promised - Math.max(1, promised * 0.02)) {
      return emit(
        fail(
          "UNREADABLE",
          `The file looks truncated: it declares ${promised.toFixed(1)} s of audio but holds ${result.durationSeconds.toFixed(1)} s.`,
          false,
        ),
      );
    }
    const storeFailure = await storeOutputs(result.files, job.outputs, out, emit, stop());
    if (storeFailure) return emit(storeFailure);
    log("info", "job done", {
      jobId: job.jobId,
      seconds: (Date.now() - started) / 1000,
      audioSeconds: result.durationSeconds,
    });
    emit({
      type: "done",
      result: {
        durationSeconds: result.durationSeconds,
        renditions: result.renditions,
        loudness: result.loudness,
        waveform: result.waveform,
        fingerprint: result.fingerprint,
        ...(result.protection ? { protection: result.protection } : {}),
        tags: source.tags,
        files: result.files.map((f) => f.name),
      },
    });
  } catch (error) {
    if (!deadline.aborted || signal.aborted) throw error;
    log("warn", "job timed out", { jobId: job.jobId, seconds: (Date.now() - started) / 1000 });
    emit(
      fail("TIMED_OUT", "The job took longer than its time limit; it will be tried again.", true),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
