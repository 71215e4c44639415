import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import {
  ASSET_FILES,
  FRAGMENT_SECONDS,
  RENDITIONS,
  assetContentType,
} from "@edge-music/core/renditions";
import { startProcess, runProcess, type ProcessResult } from "../run-process.js";
import {
  coverArgs,
  decodeArgs,
  decodeLimitSeconds,
  encodeArgs,
  planEncoderGroups,
  type PcmFormat,
} from "./ffmpeg-args.js";
import { parseEbur128Summary, type Loudness } from "./loudness.js";
import { writeManifests, type RenditionSummary } from "./packaging.js";
import { ENCRYPTION_FAILED, classifyFailure, type JobFailure } from "./failures.js";
import type { ProbedSource } from "./probe.js";
import { WaveformMeter } from "./waveform.js";
import { encryptInPlace, type ContentKey } from "./packager.js";

export type TranscodeResult = {
  durationSeconds: number;
  renditions: RenditionSummary[];
  loudness: Loudness;
  waveform: { samplesPerPixel: number; sampleRate: number; length: number };
  fingerprint: string;
  /** How the renditions were encrypted (key id only), or null when they are clear. */
  protection: { scheme: "cbcs"; keyId: string } | null;
  /** Files written under the output folder, by asset-relative name. */
  files: { name: string; contentType: string }[];
};

export type TranscodeFailure = JobFailure & { detail: ProcessResult };

export type Progress = (stage: "transcoding" | "packaging", percent: number) => void;

/**
 * Decodes the source once and lets the decoder write the PCM straight into one encoder
 * process per core, each making part of the ladder (one also measuring loudness, drawing
 * the waveform and fingerprinting): every core gets work, nothing is decoded twice, and
 * memory stays bounded by pipe buffers whatever the length.
 */
export async function transcode(
  sourcePath: string,
  source: ProbedSource,
  outDir: string,
  onProgress: Progress = () => undefined,
  workers = availableParallelism(),
  signal?: AbortSignal,
  contentKey: ContentKey | null = null,
): Promise<{ ok: true; result: TranscodeResult } | { ok: false; failure: TranscodeFailure }> {
  const pcm: PcmFormat = {
    sampleRate: source.sampleRate,
    channels: source.channels,
    bits: source.bitsPerSample > 16 ? 32 : 16,
  };
  for (const r of RENDITIONS) await mkdir(path.join(outDir, r.id), { recursive: true });
  // A scratch file of the analysis: not an output, so not under the asset folder's names.
  const fingerprintPath = path.join(outDir, "fingerprint.txt");
  const groups = planEncoderGroups(
    RENDITIONS,
    workers,
    (r) => path.join(outDir, ASSET_FILES.media(r.id)),
    { fingerprintPath },
  );
  const options = signal ? { signal } : {};
  const encoders = groups.map((group) =>
    startProcess("ffmpeg", encodeArgs(pcm, group, source.bitsPerSample), options),
  );
  const analysisIndex = groups.findIndex((g) => g.analysis);
  const meter = new WaveformMeter(pcm.sampleRate, pcm.channels);
  encoders[analysisIndex]?.child.stdout.on("data", (chunk: Buffer) => meter.write(chunk));
  // The decoder writes straight into each encoder's stdin (fds 3, 4, ...): the PCM never
  // passes through this process.
  const decoder = startProcess(
    "ffmpeg",
    decodeArgs(sourcePath, pcm, encoders.length, decodeLimitSeconds(source.durationSeconds)),
    {
      ...options,
      extraStdio: encoders.map((e) => e.child.stdin),
    },
  );
  // Our copies of the encoders' stdin must close, or they never see the end of the stream.
  for (const e of encoders) e.child.stdin.destroy();
  let lastPercent = -1;
  decoder.child.stdout.setEncoding("utf8").on("data", (text: string) => {
    // `-progress` prints blocks of key=value lines; out_time_us is the decoded position.
    for (const match of text.matchAll(/out_time_us=(\d+)/g)) {
      const seconds = Number(match[1]) / 1e6;
      const percent = Math.min(99, Math.floor((seconds / source.durationSeconds) * 100));
      if (percent > lastPercent) {
        lastPercent = percent;
        onProgress("transcoding", percent);
      }
    }
  });

  // The first process to fail takes the others down; its failure is the one that explains
  // (the others then end on a broken pipe or our SIGKILL, which says nothing).
  const all = [decoder, ...encoders];
  let firstFailure: Exclude<ProcessResult, { ok: true }> | null = null;
  // Each group's files are encrypted as soon as its encoder is done, while the others still
  // encode: only the last group's packaging adds to the job's wall time.
  const encryptions: Promise<ProcessResult>[] = [];
  const results = await Promise.all(
    all.map((c, i) =>
      c.done.then((r) => {
        if (!r.ok && !firstFailure) {
          firstFailure = r;
          for (const other of all) other.child.kill("SIGKILL");
        }
        const group = groups[i - 1];
        if (r.ok && contentKey && group?.outputs.length) {
          encryptions.push(
            encryptInPlace(
              group.outputs.map((o) => o.path),
              contentKey,
              outDir,
              FRAGMENT_SECONDS,
              signal,
              `packager-${i}.flags`,
            ),
          );
        }
        return r;
      }),
    ),
  );
  const encrypted = await Promise.all(encryptions);
  if (firstFailure) {
    return { ok: false, failure: { ...classifyFailure(firstFailure), detail: firstFailure } };
  }
  const encryptFailure = encrypted.find((e) => !e.ok);
  if (encryptFailure) {
    return { ok: false, failure: { ...ENCRYPTION_FAILED, detail: encryptFailure } };
  }

  onProgress("packaging", 98);
  // results[0] is the decoder; the encoder groups follow in order.
  const analysisResult = results[analysisIndex + 1] as ProcessResult;
  const loudness = parseEbur128Summary(analysisResult.ok ? analysisResult.stderrTail : "");
  if (!loudness) {
    return {
      ok: false,
      failure: {
        type: "failed",
        code: "TRANSCODE_FAILED",
        reason: "Loudness could not be measured.",
        retryable: true,
        detail: analysisResult,
      },
    };
  }
  onProgress("packaging", 99);
  const protection = contentKey ? { scheme: "cbcs" as const, keyId: contentKey.keyId } : null;
  const written = await writeManifests(outDir, RENDITIONS, pcm.sampleRate, protection);
  const files = written.files;
  const add = (name: string) => files.push({ name, contentType: assetContentType(name) });
  const peaks = meter.finish();
  await writeFile(path.join(outDir, ASSET_FILES.waveform), JSON.stringify(peaks));
  add(ASSET_FILES.waveform);
  if (source.coverStreamIndex !== null) {
    const cover = await runProcess(
      "ffmpeg",
      coverArgs(sourcePath, source.coverStreamIndex, path.join(outDir, ASSET_FILES.cover)),
      options,
    );
    // A broken picture loses the cover, not the track.
    if (cover.ok) add(ASSET_FILES.cover);
  }
  const fingerprint = (await readFile(fingerprintPath, "utf8")).trim();
  return {
    ok: true,
    result: {
      durationSeconds: written.durationSeconds,
      renditions: written.renditions,
      loudness,
      waveform: {
        samplesPerPixel: peaks.samples_per_pixel,
        sampleRate: peaks.sample_rate,
        length: peaks.length,
      },
      fingerprint,
      protection,
      files,
    },
  };
}
