/** Streaming platforms' reference: tracks are played back at -14 LUFS. */
export const TARGET_LUFS = -14;

export type Loudness = {
  integratedLufs: number;
  lraLu: number;
  truePeakDbfs: number;
  /** dB to add at playback to reach TARGET_LUFS (ReplayGain-style; the file is untouched). */
  gainDb: number;
};

const number = (text: string, label: RegExp): number | null => {
  const match = label.exec(text);
  if (!match?.[1]) return null;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : match[1] === "-inf" ? -Infinity : null;
};

/** Parses the summary the `ebur128=peak=true` filter prints at the end of stderr. */
export function parseEbur128Summary(stderr: string): Loudness | null {
  const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
  if (!summary.startsWith("Summary:")) return null;
  const integrated = number(summary, /I:\s+(-?[\d.]+|-inf) LUFS/);
  const lra = number(summary, /LRA:\s+(-?[\d.]+) LU/);
  const peak = number(summary, /Peak:\s+(-?[\d.]+|-inf) dBFS/);
  if (integrated === null || lra === null || peak === null) return null;
  // Silence measures -70 LUFS (the gate); never boost it.
  const gainDb = integrated <= -70 ? 0 : Math.round((TARGET_LUFS - integrated) * 100) / 100;
  return {
    integratedLufs: integrated,
    lraLu: lra,
    truePeakDbfs: Number.isFinite(peak) ? peak : -144,
    gainDb,
  };
}
