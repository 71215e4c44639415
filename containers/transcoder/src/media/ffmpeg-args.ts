import { FRAGMENT_SECONDS, type Rendition } from "@edge-music/core/renditions";

/** The decoded PCM every encoder reads: signed 32-bit little-endian, interleaved. */
export type PcmFormat = { sampleRate: number; channels: number };

/** Chromaprint (and `fpcalc`) look at the first two minutes. */
export const FINGERPRINT_SECONDS = 120;

const QUIET = ["-nostdin", "-hide_banner", "-loglevel", "error"];
const pcmInput = (pcm: PcmFormat) => [
  "-f",
  "s32le",
  "-ar",
  String(pcm.sampleRate),
  "-ac",
  String(pcm.channels),
  "-i",
  "pipe:0",
];

/** Decodes the first audio stream once, to PCM on stdout; every encoder reads a copy. */
export function decodeArgs(source: string, pcm: PcmFormat): string[] {
  return [
    ...QUIET,
    "-i",
    source,
    "-map",
    "0:a:0",
    "-vn",
    "-sn",
    "-dn",
    "-ac",
    String(pcm.channels),
    "-ar",
    String(pcm.sampleRate),
    "-c:a",
    "pcm_s32le",
    "-f",
    "s32le",
    "pipe:1",
  ];
}

/** Arguments for one rendition output: CMAF fragmented MP4 with ~6 s fragments. */
export function renditionOutputArgs(
  rendition: Rendition,
  path: string,
  sourceBits: number,
): string[] {
  const codec =
    rendition.codec === "aac"
      ? ["-c:a", "aac", "-b:a", String(rendition.bitrate)]
      : // FLAC in MP4 is "experimental" to ffmpeg 5.1; keep the source's bit depth.
        ["-c:a", "flac", "-strict", "-2", "-sample_fmt", sourceBits > 16 ? "s32" : "s16"];
  return [
    "-map",
    "0:a",
    ...codec,
    "-f",
    "mp4",
    "-movflags",
    "+empty_moov+default_base_moof+cmaf+skip_trailer",
    "-frag_duration",
    String(FRAGMENT_SECONDS * 1_000_000),
    path,
  ];
}

/** One encoder process: PCM on stdin to one or more rendition files. */
export function encodeArgs(
  pcm: PcmFormat,
  outputs: { rendition: Rendition; path: string }[],
  sourceBits: number,
): string[] {
  return [
    ...QUIET,
    ...pcmInput(pcm),
    ...outputs.flatMap((o) => renditionOutputArgs(o.rendition, o.path, sourceBits)),
    "-y",
  ];
}

/**
 * The analysis process: EBU R128 loudness with true peak (its summary is read from stderr,
 * hence `info` level) and the Chromaprint fingerprint of the first two minutes.
 */
export function analysisArgs(pcm: PcmFormat, fingerprintPath: string): string[] {
  return [
    "-nostdin",
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "info",
    ...pcmInput(pcm),
    "-filter_complex",
    `[0:a]asplit=2[l][f];[l]ebur128=peak=true[lo];[f]atrim=end=${FINGERPRINT_SECONDS}[fp]`,
    "-map",
    "[lo]",
    "-f",
    "null",
    "-",
    "-map",
    "[fp]",
    "-f",
    "chromaprint",
    "-fp_format",
    "base64",
    "-y",
    fingerprintPath,
  ];
}

/** Embedded cover art (an attached picture stream) to a JPEG at most 1000 px wide. */
export function coverArgs(source: string, streamIndex: number, path: string): string[] {
  return [
    ...QUIET,
    "-i",
    source,
    "-map",
    `0:${streamIndex}`,
    "-frames:v",
    "1",
    "-vf",
    "scale='min(1000,iw)':-2",
    "-q:v",
    "3",
    "-f",
    "image2",
    "-c:v",
    "mjpeg",
    "-y",
    path,
  ];
}

/** ffprobe as JSON: container, streams and tags. */
export function probeArgs(source: string): string[] {
  return ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", source];
}
