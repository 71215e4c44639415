/** Pixels per second of audio in the waveform: fine enough for a seek bar on a wide screen. */
export const WAVEFORM_PIXELS_PER_SECOND = 20;

export type Waveform = {
  version: 2;
  channels: 1;
  sample_rate: number;
  samples_per_pixel: number;
  bits: 8;
  length: number;
  data: number[];
};

export const samplesPerPixel = (sampleRate: number) =>
  Math.max(1, Math.round(sampleRate / WAVEFORM_PIXELS_PER_SECOND));

/**
 * The filter chain that measures, per pixel (`samplesPerPixel` samples at full rate, all
 * channels), the lowest and highest sample as float, and prints them to `file`. Full rate
 * matters: a low-rate branch understates peaks.
 */
export function waveformFilter(sampleRate: number, file: string): string {
  const escaped = file.replace(/[\\':]/g, (c) => `\\${c}`);
  return [
    "aformat=sample_fmts=flt",
    `asetnsamples=n=${samplesPerPixel(sampleRate)}:p=0`,
    "astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=Min_level+Max_level",
    `ametadata=mode=print:file='${escaped}'`,
  ].join(",");
}

/** BBC audiowaveform JSON (version 2, 8-bit, mono) from the printed per-pixel levels. */
export function waveformFromLevels(printed: string, sampleRate: number): Waveform {
  const data: number[] = [];
  const to8 = (v: number) => Math.max(-128, Math.min(127, Math.round(v * 128)));
  let min: number | null = null;
  for (const line of printed.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = Number(line.slice(eq + 1));
    if (key.endsWith("Min_level")) min = value;
    else if (key.endsWith("Max_level") && min !== null) {
      data.push(to8(min), to8(value));
      min = null;
    }
  }
  return {
    version: 2,
    channels: 1,
    sample_rate: sampleRate,
    samples_per_pixel: samplesPerPixel(sampleRate),
    bits: 8,
    length: data.length / 2,
    data,
  };
}
