import { z } from "zod";
import { probeArgs } from "./ffmpeg-args.js";
import { log } from "../log.js";
import { runProcess } from "../run-process.js";
import { probeRefusal, readHead, sniffRefusal, type InputRefusal } from "./admission.js";

export type { InputRefusal } from "./admission.js";

const ProbeSchema = z.object({
  format: z
    .object({
      format_name: z.string().optional(),
      duration: z.string().optional(),
      tags: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  streams: z
    .array(
      z.object({
        index: z.number(),
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        sample_rate: z.string().optional(),
        channels: z.number().optional(),
        bits_per_raw_sample: z.string().optional(),
        bits_per_sample: z.number().optional(),
        sample_fmt: z.string().optional(),
        duration: z.string().optional(),
        disposition: z.object({ attached_pic: z.number().optional() }).optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        tags: z.record(z.string(), z.string()).optional(),
      }),
    )
    .default([]),
});

export type SourceTags = {
  title?: string;
  artist?: string;
  album?: string;
  trackNumber?: number;
  year?: number;
  genre?: string;
  isrc?: string;
};

export type ProbedSource = {
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  codec: string;
  container: string;
  coverStreamIndex: number | null;
  tags: SourceTags;
};

/**
 * Largest embedded cover decoded, in pixels (documented in the README): a 25-megapixel
 * picture is already far beyond any cover; a bigger one is skipped, not decoded.
 */
export const COVER_MAX_PIXELS = 25_000_000;

/** Highest output rate: AAC and browsers are happiest at 48 kHz and below. */
const MAX_SAMPLE_RATE = 48_000;

function pickTags(...sources: (Record<string, string> | undefined)[]): SourceTags {
  const all = new Map<string, string>();
  for (const tags of sources) {
    for (const [key, value] of Object.entries(tags ?? {})) {
      if (value.trim() && !all.has(key.toLowerCase())) all.set(key.toLowerCase(), value.trim());
    }
  }
  const get = (...keys: string[]) => keys.map((k) => all.get(k)).find((v) => v !== undefined);
  const int = (v: string | undefined) => {
    const n = v ? Number.parseInt(v, 10) : NaN;
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const tags: SourceTags = {};
  const set = <K extends keyof SourceTags>(key: K, value: SourceTags[K] | undefined) => {
    if (value !== undefined) tags[key] = value;
  };
  set("title", get("title"));
  set("artist", get("artist", "album_artist"));
  set("album", get("album"));
  set("trackNumber", int(get("track", "tracknumber")));
  set("year", int(get("date", "year", "originaldate")));
  set("genre", get("genre"));
  set("isrc", get("isrc", "tsrc"));
  return tags;
}

/** Probes the source and decides whether it is audio we can transcode. */
export async function probeSource(
  path: string,
  maxDurationSeconds: number,
  signal?: AbortSignal,
): Promise<{ ok: true; source: ProbedSource } | { ok: false; refusal: InputRefusal }> {
  // Playlists, concat lists and pictures are refused by name before ffmpeg sees them.
  const sniffed = sniffRefusal(await readHead(path));
  if (sniffed) return { ok: false, refusal: sniffed };
  const run = await runProcess("ffprobe", probeArgs(path), signal ? { signal } : {});
  // Stopped by us (the job ended): there is no verdict on the file.
  signal?.throwIfAborted();
  if (!run.ok) {
    return { ok: false, refusal: probeRefusal("stderrTail" in run ? run.stderrTail : run.message) };
  }
  const parsed = ProbeSchema.safeParse(JSON.parse(run.stdout || "{}"));
  if (!parsed.success)
    return {
      ok: false,
      refusal: { code: "UNREADABLE", reason: "The file could not be analysed." },
    };
  const { format, streams } = parsed.data;
  const audio = streams.find((s) => s.codec_type === "audio");
  if (!audio) {
    return {
      ok: false,
      refusal: streams.length
        ? { code: "NO_AUDIO_STREAM", reason: "The file has no audio stream." }
        : { code: "NOT_AUDIO", reason: "The file is not an audio format we can read." },
    };
  }
  const duration = Number(audio.duration ?? format?.duration ?? NaN);
  if (!Number.isFinite(duration) || duration <= 0.05) {
    return { ok: false, refusal: { code: "EMPTY", reason: "The file contains no audio." } };
  }
  if (duration > maxDurationSeconds) {
    const limit = Math.round(maxDurationSeconds / 60);
    return {
      ok: false,
      refusal: {
        code: "TOO_LONG",
        reason: `The audio lasts ${Math.round(duration / 60)} minutes; the limit is ${limit} minutes.`,
      },
    };
  }
  const picture = streams.find(
    (s) => s.codec_type === "video" && s.disposition?.attached_pic === 1,
  );
  const pixels = (picture?.width ?? 0) * (picture?.height ?? 0);
  const cover = picture && pixels > 0 && pixels <= COVER_MAX_PIXELS ? picture : undefined;
  if (picture && !cover) {
    log("warn", "cover skipped", {
      reason: pixels > 0 ? "too many pixels" : "no dimensions",
      width: picture.width ?? null,
      height: picture.height ?? null,
      maxPixels: COVER_MAX_PIXELS,
    });
  }
  const bits = Number(audio.bits_per_raw_sample ?? audio.bits_per_sample ?? 16) || 16;
  return {
    ok: true,
    source: {
      durationSeconds: duration,
      sampleRate: Math.min(Number(audio.sample_rate ?? 44_100) || 44_100, MAX_SAMPLE_RATE),
      channels: Math.min(Math.max(audio.channels ?? 2, 1), 2),
      bitsPerSample: bits,
      codec: audio.codec_name ?? "unknown",
      container: format?.format_name ?? "unknown",
      coverStreamIndex: cover ? cover.index : null,
      tags: pickTags(format?.tags, audio.tags),
    },
  };
}
