import { FRAGMENT_SECONDS, type Rendition } from "@edge-music/core/renditions";
import { safeInput, safeProbeInput } from "./admission.js";
import { waveformFilter } from "./waveform.js";

/**
 * The decoded PCM every encoder reads: signed little-endian, interleaved; 16-bit for 16-bit
 * (and lossy) sources, 32-bit when the source has more bits, so FLAC stays lossless.
 */
export type PcmFormat = { sampleRate: number; channels: number; bits: 16 | 32 };

const pcmCodec = (pcm: PcmFormat) =>
  pcm.bits === 16 ? ["pcm_s16le", "s16le"] : ["pcm_s32le", "s32le"];

/** Chromaprint (and `fpcalc`) look at the first two minutes. */
export const FINGERPRINT_SECONDS = 120;

const QUIET = ["-nostdin", "-hide_banner", "-loglevel", "error"];
// prettier-ignore
const pcmInput = (pcm: PcmFormat) => [
  "-f", pcmCodec(pcm)[1] as string, "-ar", String(pcm.sampleRate), "-ac", String(pcm.channels), "-i", "pipe:0",
];

/**
 * How much audio the decoder reads at most: what the file declares plus a margin. A header
 * can lie (a FLAC or MP3 that declares 2 minutes and holds 10): decoding stops here, and a
 * result that reaches it is refused as a length mismatch instead of running on.
 */
export function decodeLimitSeconds(declaredSeconds: number): number {
  return declaredSeconds + Math.max(5, declaredSeconds * 0.02);
}

/**
 * Decodes the first audio stream once, to PCM: one copy per encoder process, at most
 * `maxSeconds` of it.
 */
export function decodeArgs(
  source: string,
  pcm: PcmFormat,
  encoders: number,
  maxSeconds: number,
): string[] {
  const [codec, format] = pcmCodec(pcm) as [string, string];
  // One decode, one PCM copy per encoder on fds 3, 4, ...; progress as key=value on stdout.
  // prettier-ignore
  const copy = (target: string) => [
    "-map", "0:a:0", "-ac", String(pcm.channels), "-ar", String(pcm.sampleRate),
    "-c:a", codec, "-f", format, target,
  ];
  // prettier-ignore
  return [
    ...QUIET, "-progress", "pipe:1", "-stats_period", "0.5", "-t", maxSeconds.toFixed(3),
    ...safeInput(source), "-vn", "-sn", "-dn",
    ...Array.from({ length: encoders }, (_, i) => copy(`pipe:${i + 3}`)).flat(),
  ];
}

/**
 * ffmpeg's native AAC encoder, per rung: the `fast` coder everywhere. Measured by
 * `npm run bench:encoders` on stereo noise, a tonal chord and a mix like a real track:
 * the default `twoloop` coder keeps re-encoding frames whose content cannot use the bits
 * (tonal music at 256k took up to 4x as long as `fast`, a dense mix at 256k 4x too), and its
 * difference signal against the source is no better (on the chord at 64k, 12 dB against
 * `fast`'s 58 dB). `fast` low-passes harder at 64k, so that rung states a 12 kHz cutoff,
 * which keeps at least `twoloop`'s bandwidth there. The figures are in the README.
 */
const AAC_OPTIONS: ReadonlyMap<Rendition["id"], readonly string[]> = new Map([
  ["aac_64", ["-aac_coder", "fast", "-cutoff", "12000"]],
  ["aac_128", ["-aac_coder", "fast"]],
  ["aac_256", ["-aac_coder", "fast"]],
]);

/** Encoder arguments of one rendition (after `-map`). */
export function renditionCodecArgs(rendition: Rendition, sourceBits: number): string[] {
  return rendition.codec === "aac"
    ? ["-c:a", "aac", "-b:a", String(rendition.bitrate), ...(AAC_OPTIONS.get(rendition.id) ?? [])]
    : // FLAC in MP4 is "experimental" to ffmpeg 5.1; keep the source's bit depth.
      ["-c:a", "flac", "-strict", "-2", "-sample_fmt", sourceBits > 16 ? "s32" : "s16"];
}

/** Arguments for one rendition output of `label`: CMAF fragmented MP4, ~6 s fragments. */
export function renditionOutputArgs(
  rendition: Rendition,
  path: string,
  sourceBits: number,
  label = "0:a",
): string[] {
  const codec = renditionCodecArgs(rendition, sourceBits);
  return [
    "-map",
    label,
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

/** What one encoder process makes: some renditions, and maybe the analysis. */
export type EncoderGroup = {
  outputs: { rendition: Rendition; path: string }[];
  /** Loudness (EBU R128, true peak), the fingerprint of the first two minutes, the waveform. */
  analysis?: { fingerprintPath: string; waveformLevelsPath: string };
};

/**
 * CPU seconds per 4 minutes of 44.1 kHz stereo, the worst of `npm run bench:encoders`'
 * materials for each (tonal music for the AAC rungs), with Debian's ffmpeg 5.1 on the 2-core
 * machine. The AAC rungs dominate; FLAC and the analysis are cheap.
 */
const COST: Record<Rendition["id"] | "analysis", number> = {
  aac_64: 2.0,
  aac_128: 6.4,
  aac_256: 6.5,
  flac: 0.6,
  analysis: 1.2,
};

/**
 * Spreads the ladder over `workers` encoder processes so their CPU costs are close: heaviest
 * first, each to the currently lightest group (greedy LPT scheduling). The pipeline asks for
 * one more process than cores: what each rung costs depends on the music (on tonal music the
 * 128k and 256k rungs are heavy, on a dense mix only 256k), so no fixed plan balances two
 * processes for all of it; with three, the kernel balances them over the two cores.
 */
export function planEncoderGroups(
  renditions: readonly Rendition[],
  workers: number,
  pathOf: (rendition: Rendition) => string,
  analysis: NonNullable<EncoderGroup["analysis"]>,
): EncoderGroup[] {
  const count = Math.max(1, Math.min(workers, renditions.length));
  const groups: (EncoderGroup & { cost: number })[] = Array.from({ length: count }, () => ({
    outputs: [],
    cost: 0,
  }));
  type Job = { cost: number; add: (g: EncoderGroup) => void };
  const jobs: Job[] = [
    ...renditions.map((rendition) => ({
      cost: COST[rendition.id],
      add: (g: EncoderGroup) => g.outputs.push({ rendition, path: pathOf(rendition) }),
    })),
    { cost: COST.analysis, add: (g: EncoderGroup) => (g.analysis = analysis) },
  ];
  for (const job of jobs.sort((a, b) => b.cost - a.cost)) {
    const lightest = groups.reduce((min, g) => (g.cost < min.cost ? g : min));
    job.add(lightest);
    lightest.cost += job.cost;
  }
  return groups
    .filter((g) => g.outputs.length > 0 || g.analysis)
    .map(({ outputs, analysis }) => (analysis ? { outputs, analysis } : { outputs }));
}

/**
 * One encoder process: PCM on stdin, split to each of its renditions and, for the group
 * that holds it, the analysis branch. The ebur128 summary is read from stderr, so that
 * process logs at `info`.
 */
export function encodeArgs(pcm: PcmFormat, group: EncoderGroup, sourceBits: number): string[] {
  const branches = group.outputs.length + (group.analysis ? 1 : 0);
  const labels = group.outputs.map((_, i) => `[o${i}]`);
  const filters = [`[0:a]asplit=${branches}${labels.join("")}${group.analysis ? "[an]" : ""}`];
  if (group.analysis) {
    filters.push(
      `[an]asplit=3[l][f][w];[l]ebur128=peak=true[lo];[f]atrim=end=${FINGERPRINT_SECONDS}[fp]`,
      `[w]${waveformFilter(pcm.sampleRate, group.analysis.waveformLevelsPath)}[wo]`,
    );
  }
  const logging = group.analysis
    ? ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"]
    : QUIET;
  return [
    ...logging,
    ...pcmInput(pcm),
    "-filter_complex",
    filters.join(";"),
    ...group.outputs.flatMap((o, i) =>
      renditionOutputArgs(o.rendition, o.path, sourceBits, labels[i]),
    ),
    ...(group.analysis
      ? [
          "-map",
          "[lo]",
          "-f",
          "null",
          "-",
          "-map",
          "[wo]",
          "-f",
          "null",
          "-",
          "-map",
          "[fp]",
          "-f",
          "chromaprint",
          "-fp_format",
          "base64",
          group.analysis.fingerprintPath,
        ]
      : []),
    "-y",
  ];
}

/** Embedded cover art (an attached picture stream) to a JPEG at most 1000 px wide. */
export function coverArgs(source: string, streamIndex: number, path: string): string[] {
  return [
    ...QUIET,
    ...safeInput(source),
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
  return [
    "-v",
    "error",
    "-print_format",
    "json",
    "-show_format",
    "-show_streams",
    ...safeProbeInput(source),
  ];
}
