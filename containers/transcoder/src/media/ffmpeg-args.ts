import { FRAGMENT_SECONDS, type Rendition } from "@edge-music/core/renditions";
import { safeInput, safeProbeInput } from "./admission.js";

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
 * which keeps at least `twoloop`'s bandwidth there. At 256k, 128 kb/s per channel needs no
 * mid/side stereo, and the encoder's per-band mid/side search is what made that rung slow on
 * tonal and dense material (a 16-bit chord: 10.1 s of CPU per 5 minutes with it, 3.9 s
 * without; the mix 6.6 s against 4.1 s) for a difference signal within 1 dB. The figures
 * are in the README.
 */
const AAC_OPTIONS: ReadonlyMap<Rendition["id"], readonly string[]> = new Map([
  ["aac_64", ["-aac_coder", "fast", "-cutoff", "12000"]],
  ["aac_128", ["-aac_coder", "fast"]],
  ["aac_256", ["-aac_coder", "fast", "-aac_ms", "0"]],
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
  /**
   * Loudness (EBU R128, true peak), the fingerprint of the first two minutes, and 16-bit PCM
   * on stdout for the waveform.
   */
  analysis?: { fingerprintPath: string };
};

type Part = Rendition["id"] | "analysis";

/**
 * CPU seconds per 5 minutes of 44.1 kHz stereo, each part run alone on PCM, with Debian's
 * ffmpeg 5.1 on the 2-core machine, for each kind of material `bench:ingest` measures (and
 * 16-bit tonal audio, as on CDs, where the AAC encoder behaves differently again). Which
 * rung is heavy depends on the music: 128k and 256k on tonal music, 256k on a dense mix.
 */
const COST_PROFILES: readonly Readonly<Record<Part, number>>[] = [
  { aac_64: 1.95, aac_128: 2.49, aac_256: 2.19, flac: 0.59, analysis: 1.8 }, // noise
  { aac_64: 2.12, aac_128: 7.31, aac_256: 6.79, flac: 0.58, analysis: 1.8 }, // chord, 24-bit
  { aac_64: 1.64, aac_128: 2.51, aac_256: 3.9, flac: 0.45, analysis: 1.8 }, // chord, 16-bit
  { aac_64: 1.83, aac_128: 2.57, aac_256: 4.08, flac: 0.63, analysis: 1.8 }, // mix
];

/**
 * Spreads the ladder and the analysis over at most `workers` encoder processes (the pipeline
 * asks for one per core). No split balances every kind of music, so this one is chosen for
 * the worst case: of all assignments (a handful of parts, so all are tried), the one whose
 * busiest process, on the material where it does worst, is closest to a perfect split of
 * that material's work. On two cores that is 128k + FLAC + analysis against 64k + 256k,
 * within 8% of perfect on every profile; one process per rendition, or one more process
 * than cores for the kernel to balance, measured slower on every material (README, "Ingest").
 */
export function planEncoderGroups(
  renditions: readonly Rendition[],
  workers: number,
  pathOf: (rendition: Rendition) => string,
  analysis: NonNullable<EncoderGroup["analysis"]>,
): EncoderGroup[] {
  const parts: Part[] = [...renditions.map((r) => r.id), "analysis"];
  const count = Math.max(1, Math.min(workers, parts.length));
  // How far the busiest process is above a perfect split, on the material where it is worst.
  const worstExcess = (assignment: number[]) =>
    Math.max(
      ...COST_PROFILES.map((cost) => {
        const loads = new Array<number>(count).fill(0);
        parts.forEach((part, i) => {
          const process = assignment[i] as number;
          loads[process] = (loads[process] as number) + cost[part];
        });
        const total = loads.reduce((a, b) => a + b, 0);
        return Math.max(...loads) / Math.max(total / count, ...parts.map((p) => cost[p]));
      }),
    );
  let best: number[] = parts.map(() => 0);
  let bestExcess = worstExcess(best);
  // Every assignment of parts to processes, as the digits of i in base `count`.
  for (let i = 1; i < count ** parts.length; i++) {
    const assignment = parts.map((_, p) => Math.floor(i / count ** p) % count);
    const excess = worstExcess(assignment);
    if (excess < bestExcess - 1e-9) [best, bestExcess] = [assignment, excess];
  }
  const groups: EncoderGroup[] = Array.from({ length: count }, () => ({ outputs: [] }));
  renditions.forEach((rendition, i) =>
    (groups[best[i] as number] as EncoderGroup).outputs.push({
      rendition,
      path: pathOf(rendition),
    }),
  );
  (groups[best[parts.length - 1] as number] as EncoderGroup).analysis = analysis;
  return groups.filter((g) => g.outputs.length > 0 || g.analysis);
}

/**
 * One encoder process: PCM on stdin, split to each of its renditions and, for the group
 * that holds it, the analysis branch. The ebur128 summary is read from stderr, so that
 * process logs at `info`; the waveform's PCM leaves on stdout.
 */
export function encodeArgs(pcm: PcmFormat, group: EncoderGroup, sourceBits: number): string[] {
  const branches = group.outputs.length + (group.analysis ? 1 : 0);
  const labels = group.outputs.map((_, i) => `[o${i}]`);
  const filters = [`[0:a]asplit=${branches}${labels.join("")}${group.analysis ? "[an]" : ""}`];
  if (group.analysis) {
    filters.push(
      `[an]asplit=3[l][f][w];[l]ebur128=peak=true:framelog=verbose[lo];[f]atrim=end=${FINGERPRINT_SECONDS}[fp]`,
      "[w]aformat=sample_fmts=s16[wo]",
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
          "-c:a",
          "pcm_s16le",
          "-f",
          "s16le",
          // Whole 32 KB buffers, not a write (and a wakeup of ours) per 4 KB frame.
          "-flush_packets",
          "0",
          "pipe:1",
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
