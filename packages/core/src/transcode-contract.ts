import { z } from "zod";
import { HexKeySchema } from "./content-protection.js";

/**
 * The transcoder's HTTP contract (`POST /jobs`), shared by the api's queue consumer and the
 * transcoder. Versioned: a receiver refuses versions it does not know.
 */
export const TranscodeJobRequestSchema = z.object({
  version: z.literal(1),
  jobId: z.string().min(1).max(100),
  source: z.object({
    /** Presigned GET of the uploaded original. */
    url: z.url(),
    sizeBytes: z.number().int().positive(),
  }),
  /** Presigned PUT per asset-relative output name (`aac_128/media.mp4`, `master.m3u8`, ...). */
  outputs: z.record(z.string().min(1), z.url()),
  limits: z.object({ maxDurationSeconds: z.number().positive() }),
  /**
   * Present when the deployment encrypts: every rendition becomes cbcs CMAF under this one
   * key (clear key and key id, 32 hex digits each). The transcoder keeps it in memory and in
   * a 0600 flag file of the job's scratch folder only, both gone when the job ends.
   */
  protection: z
    .object({ scheme: z.literal("cbcs"), keyId: HexKeySchema, key: HexKeySchema })
    .optional(),
});
export type TranscodeJobRequest = z.infer<typeof TranscodeJobRequestSchema>;

/**
 * Re-packaging (`POST /jobs` too): an already published asset version's clear renditions
 * become a new, encrypted asset version, without decoding or encoding the audio again.
 */
export const RepackageJobRequestSchema = z.object({
  version: z.literal(1),
  kind: z.literal("repackage"),
  jobId: z.string().min(1).max(100),
  /** Presigned GET of each clear rendition's media file, by rendition id. */
  renditions: z
    .array(
      z.object({
        id: z.enum(["aac_64", "aac_128", "aac_256", "flac"]),
        url: z.url(),
        sizeBytes: z.number().int().positive(),
      }),
    )
    .min(1)
    .max(4),
  /** Presigned PUT per asset-relative output name (media files, playlists, manifests). */
  outputs: z.record(z.string().min(1), z.url()),
  protection: z.object({ scheme: z.literal("cbcs"), keyId: HexKeySchema, key: HexKeySchema }),
});
export type RepackageJobRequest = z.infer<typeof RepackageJobRequestSchema>;

/** What `POST /jobs` accepts: a transcode (no `kind`) or a re-packaging. */
export const JobRequestSchema = z.union([RepackageJobRequestSchema, TranscodeJobRequestSchema]);

export const REFUSAL_CODES = [
  "NOT_AUDIO",
  "PLAYLIST",
  "IMAGE",
  "UNSUPPORTED_FORMAT",
  "LENGTH_MISMATCH",
  "NO_AUDIO_STREAM",
  "UNREADABLE",
  "EMPTY",
  "TOO_LONG",
  "SOURCE_UNAVAILABLE",
  "TRANSCODE_FAILED",
  "TRANSCODE_CRASHED",
  "TIMED_OUT",
  "RESOURCE_LIMIT",
  "OUTPUT_UPLOAD_FAILED",
] as const;

const RenditionSummary = z.object({
  id: z.enum(["aac_64", "aac_128", "aac_256", "flac"]),
  codecs: z.string(),
  bandwidth: z.number().int().positive(),
  averageBandwidth: z.number().int().positive(),
  sizeBytes: z.number().int().positive(),
  fragments: z.number().int().positive(),
});

const Tags = z.object({
  title: z.string().optional(),
  artist: z.string().optional(),
  album: z.string().optional(),
  trackNumber: z.number().int().optional(),
  year: z.number().int().optional(),
  genre: z.string().optional(),
  isrc: z.string().optional(),
});

export const TranscodeResultSchema = z.object({
  durationSeconds: z.number().positive(),
  renditions: z.array(RenditionSummary),
  loudness: z.object({
    integratedLufs: z.number(),
    lraLu: z.number(),
    truePeakDbfs: z.number(),
    gainDb: z.number(),
  }),
  waveform: z.object({
    samplesPerPixel: z.number().int().positive(),
    sampleRate: z.number().int().positive(),
    length: z.number().int().nonnegative(),
  }),
  fingerprint: z.string().min(1),
  /** How the renditions were encrypted (the key id only); absent when they are clear. */
  protection: z.object({ scheme: z.literal("cbcs"), keyId: HexKeySchema }).optional(),
  tags: Tags,
  /** Asset-relative names actually uploaded (cover.jpg only when the source had one). */
  files: z.array(z.string()),
});
export type TranscodeResult = z.infer<typeof TranscodeResultSchema>;

export const RepackageResultSchema = z.object({
  renditions: z.array(RenditionSummary),
  protection: z.object({ scheme: z.literal("cbcs"), keyId: HexKeySchema }),
  files: z.array(z.string()),
});
export type RepackageResult = z.infer<typeof RepackageResultSchema>;

/** One line of the NDJSON response body: progress while working, then one `done` or `failed`. */
export const TranscodeEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("progress"),
    stage: z.enum(["downloading", "probing", "transcoding", "packaging", "uploading"]),
    percent: z.number().min(0).max(100),
  }),
  z.object({ type: z.literal("done"), result: TranscodeResultSchema }),
  z.object({ type: z.literal("repackaged"), result: RepackageResultSchema }),
  z.object({
    type: z.literal("failed"),
    code: z.enum(REFUSAL_CODES),
    reason: z.string(),
    /** Whether trying again could succeed (a network failure) or not (not audio). */
    retryable: z.boolean(),
  }),
]);
export type TranscodeEvent = z.infer<typeof TranscodeEventSchema>;
