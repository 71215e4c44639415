import { z } from "zod";

/**
 * The ingest queue's messages, versioned; receivers parse them: an upload to process, or a
 * published track's clear asset version to re-package encrypted.
 */
export const IngestMessageSchema = z.union([
  z.object({ version: z.literal(1), uploadId: z.string().min(1).max(64) }),
  z.object({
    version: z.literal(1),
    kind: z.literal("repackage"),
    trackId: z.string().min(1).max(64),
    assetVersionId: z.string().min(1).max(64),
  }),
]);
export type IngestMessage = z.infer<typeof IngestMessageSchema>;

/** Content types accepted for upload, by what people upload: mp3, wav, flac, aac/m4a, ogg/opus, aiff. */
export const UPLOAD_CONTENT_TYPES = [
  "audio/mpeg",
  "audio/mp3",
  "audio/wav",
  "audio/x-wav",
  "audio/wave",
  "audio/flac",
  "audio/x-flac",
  "audio/aac",
  "audio/mp4",
  "audio/x-m4a",
  "audio/m4a",
  "audio/ogg",
  "audio/opus",
  "audio/aiff",
  "audio/x-aiff",
] as const;

/** R2 keys, in one place (DESIGN.md, "Storage keys"). */
export const storageKeys = {
  uploadSource: (userId: string, uploadId: string) => `uploads/${userId}/${uploadId}/source`,
  assetPrefix: (trackId: string, assetVersionId: string) => `tracks/${trackId}/${assetVersionId}/`,
};
