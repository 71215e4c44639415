import { open } from "node:fs/promises";

/** Why an input was refused, in words an uploader can act on. */
export type InputRefusal = {
  code:
    | "NOT_AUDIO"
    | "PLAYLIST"
    | "IMAGE"
    | "UNSUPPORTED_FORMAT"
    | "NO_AUDIO_STREAM"
    | "UNREADABLE"
    | "EMPTY"
    | "TOO_LONG"
    | "LENGTH_MISMATCH";
  reason: string;
};

/**
 * ffmpeg's demuxers for the formats we accept (MP3, WAV, FLAC, AAC, MP4/M4A, Ogg/Opus, AIFF;
 * `mov` is the MP4 family's demuxer). Anything else, playlists and concat lists above all,
 * would let ffmpeg open other files or read things that are not audio.
 */
export const ACCEPTED_DEMUXERS = ["mp3", "wav", "flac", "aac", "mov", "ogg", "aiff"] as const;

const ACCEPTED_WORDS = "MP3, WAV, FLAC, AAC/M4A, Ogg/Opus or AIFF";

/**
 * Input options for every ffmpeg and ffprobe run on an upload: local files only (no http, no
 * `concat:`, no `subfile:`), and only our demuxers. With `file:` before the path, nothing in
 * the name can be read as a protocol either.
 */
export function safeInput(path: string): string[] {
  return [
    "-protocol_whitelist",
    "file",
    "-format_whitelist",
    ACCEPTED_DEMUXERS.join(","),
    "-i",
    `file:${path}`,
  ];
}

/** The same for ffprobe, which takes the input as its last argument, without `-i`. */
export function safeProbeInput(path: string): string[] {
  return [
    "-protocol_whitelist",
    "file",
    "-format_whitelist",
    ACCEPTED_DEMUXERS.join(","),
    `file:${path}`,
  ];
}

const startsWith = (head: Uint8Array, ...bytes: number[]) => bytes.every((b, i) => head[i] === b);
const text = (head: Uint8Array) =>
  new TextDecoder()
    .decode(head)
    .replace(/^\uFEFF/, "")
    .trimStart();

/**
 * What the first bytes say the file is, when it is something we can name and refuse before
 * any decoding: playlists, concat lists, pictures, documents. Null: let the probe decide.
 */
export function sniffRefusal(head: Uint8Array): InputRefusal | null {
  const start = text(head.subarray(0, 512));
  if (/^#EXT(M3U|INF)/i.test(start) || /^\[playlist\]/i.test(start)) {
    return {
      code: "PLAYLIST",
      reason:
        "The file is a playlist (M3U/HLS or PLS), not audio: upload the audio files themselves.",
    };
  }
  if (/^(ffconcat|file\s+['"]?[^\s]+)/i.test(start)) {
    return {
      code: "PLAYLIST",
      reason: "The file is a list of other files (an ffmpeg concat list), not audio.",
    };
  }
  if (/^<(\?xml|mpd|!doctype|html)/i.test(start)) {
    return { code: "NOT_AUDIO", reason: "The file is an XML or HTML document, not audio." };
  }
  const image =
    startsWith(head, 0x89, 0x50, 0x4e, 0x47) ||
    startsWith(head, 0xff, 0xd8, 0xff) ||
    startsWith(head, 0x47, 0x49, 0x46, 0x38) ||
    startsWith(head, 0x42, 0x4d) ||
    (startsWith(head, 0x52, 0x49, 0x46, 0x46) && text(head.subarray(8, 12)) === "WEBP");
  if (image) {
    return { code: "IMAGE", reason: "The file is a picture, not audio." };
  }
  return null;
}

/** The first bytes of a file (enough for `sniffRefusal`). */
export async function readHead(path: string, bytes = 512): Promise<Uint8Array> {
  const file = await open(path, "r");
  try {
    const buffer = new Uint8Array(bytes);
    const { bytesRead } = await file.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * The refusal for a probe that ffmpeg ended with `stderr`: a format it recognised but we do
 * not accept names the format; data it could not recognise at all is not audio.
 */
export function probeRefusal(stderr: string): InputRefusal {
  const unsupported = /\[([\w,]+) @ [^\]]+\] Format not on whitelist/.exec(stderr);
  if (unsupported) {
    return {
      code: "UNSUPPORTED_FORMAT",
      reason: `The file is ${unsupported[1]?.split(",")[0] ?? "a format"}, which we do not take: upload ${ACCEPTED_WORDS}.`,
    };
  }
  if (/Invalid data found|could not find codec parameters|moov atom not found/i.test(stderr)) {
    return {
      code: "NOT_AUDIO",
      reason: `The file is not audio we can read: upload ${ACCEPTED_WORDS}.`,
    };
  }
  return {
    code: "UNREADABLE",
    reason: "The file could not be read; it may be damaged or truncated.",
  };
}
