/**
 * Objective measures of a lossy encode against its source, for choosing encoder settings:
 * the difference signal (what the encoder changed, as a signal-to-difference ratio, over
 * the whole band and within the encoder's bandwidth) and the bandwidth the encode keeps.
 */
import { spawnSync } from "node:child_process";

/** Interleaved stereo float PCM at 44.1 kHz, as ffmpeg decodes `file` (edit lists applied). */
export function decodeStereo(file: string): Float32Array {
  const r = spawnSync(
    "ffmpeg",
    ["-nostdin", "-loglevel", "error", "-i", file, "-ac", "2", "-ar", "44100", "-f", "f32le", "-"],
    { maxBuffer: 2 ** 31 },
  );
  if (r.status !== 0) throw new Error(`decoding ${file}: ${r.stderr}`);
  const bytes = r.stdout;
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/**
 * The lag (in frames) of `test` against `ref` that best lines them up, searched within
 * ±`maxLag` on a stretch of the mono sum: decoders disagree on priming by up to a frame.
 */
export function bestLag(ref: Float32Array, test: Float32Array, maxLag = 2048): number {
  const start = 44_100; // one second in, past any fade-in
  const length = 16_384;
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let score = 0;
    for (let i = start; i < start + length; i++) {
      const j = i + lag;
      score += (ref[2 * i]! + ref[2 * i + 1]!) * (test[2 * j]! + test[2 * j + 1]!);
    }
    if (score > bestScore) [bestScore, best] = [score, lag];
  }
  return best;
}

/** In-place radix-2 FFT of `re` + i`im` (length a power of two). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const step = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const [wr, wi] = [Math.cos(step * k), Math.sin(step * k)];
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

const FFT_SIZE = 4096;

/**
 * Mean power spectrum (both channels, Hann window) of `signal(i)` over `frames` windows
 * spread through `length` frames.
 */
function powerSpectrum(signal: (i: number, ch: number) => number, length: number, frames = 96) {
  const power = new Float64Array(FFT_SIZE / 2);
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  const hop = Math.max(1, Math.floor((length - FFT_SIZE) / frames));
  for (let f = 0; f < frames; f++) {
    for (let ch = 0; ch < 2; ch++) {
      for (let i = 0; i < FFT_SIZE; i++) {
        re[i] = signal(f * hop + i, ch) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FFT_SIZE));
        im[i] = 0;
      }
      fft(re, im);
      for (let k = 0; k < FFT_SIZE / 2; k++) power[k]! += re[k]! ** 2 + im[k]! ** 2;
    }
  }
  return power;
}

const db = (x: number) => 10 * Math.log10(Math.max(x, 1e-30));

export type Quality = {
  /** Signal to difference over the whole band, dB. */
  snrDb: number;
  /** Signal to difference below `bandwidthHz` (what the encoder meant to keep), dB. */
  inBandSnrDb: number;
  /** Highest frequency where the encode keeps the source's level within 10 dB. */
  bandwidthHz: number;
};

/** Compares a decoded encode with its source. */
export function compare(ref: Float32Array, test: Float32Array): Quality {
  const lag = bestLag(ref, test);
  const frames = Math.min(ref.length / 2, test.length / 2 - Math.max(0, lag)) - 4096;
  const at = (x: Float32Array, i: number, ch: number, shift: number) =>
    x[2 * (i + shift) + ch] ?? 0;
  let signal = 0;
  let difference = 0;
  for (let i = 4096; i < frames; i++) {
    for (let ch = 0; ch < 2; ch++) {
      const s = at(ref, i, ch, 0);
      signal += s * s;
      difference += (s - at(test, i, ch, lag)) ** 2;
    }
  }
  const source = powerSpectrum((i, ch) => at(ref, i, ch, 0), frames);
  const decoded = powerSpectrum((i, ch) => at(test, i, ch, lag), frames);
  const diff = powerSpectrum((i, ch) => at(ref, i, ch, 0) - at(test, i, ch, lag), frames);
  const peak = Math.max(...source);
  const binHz = 44_100 / FFT_SIZE;
  let lastKept = 0;
  for (let k = 1; k < source.length; k++) {
    // Only where the source has something to keep.
    if (db(source[k]!) > db(peak) - 80 && db(decoded[k]!) > db(source[k]!) - 10) lastKept = k;
  }
  let inSignal = 0;
  let inDiff = 0;
  for (let k = 1; k <= lastKept; k++) {
    inSignal += source[k]!;
    inDiff += diff[k]!;
  }
  return {
    snrDb: db(signal) - db(difference),
    inBandSnrDb: db(inSignal) - db(inDiff),
    bandwidthHz: Math.round(lastKept * binHz),
  };
}
