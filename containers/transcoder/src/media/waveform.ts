import { Writable } from "node:stream";

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

/**
 * Consumes interleaved signed 32-bit PCM and keeps, per pixel, the min and max sample over
 * all channels at full rate (a low-rate branch would understate peaks). Output is BBC
 * audiowaveform JSON, version 2, 8-bit, mono.
 */
export class WaveformSink extends Writable {
  readonly samplesPerPixel: number;
  #data: number[] = [];
  #min = 0;
  #max = 0;
  #inPixel = 0;
  #carry = Buffer.alloc(0);

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    super();
    this.samplesPerPixel = Math.max(1, Math.round(sampleRate / WAVEFORM_PIXELS_PER_SECOND));
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    const frameBytes = 4 * this.channels;
    const buffer = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    const usable = buffer.length - (buffer.length % frameBytes);
    for (let at = 0; at < usable; at += frameBytes) {
      for (let c = 0; c < this.channels; c++) {
        const sample = buffer.readInt32LE(at + c * 4);
        if (sample < this.#min) this.#min = sample;
        if (sample > this.#max) this.#max = sample;
      }
      if (++this.#inPixel === this.samplesPerPixel) this.#flushPixel();
    }
    this.#carry = Buffer.from(buffer.subarray(usable));
    done();
  }

  #flushPixel(): void {
    const to8 = (v: number) => Math.max(-128, Math.min(127, Math.round((v / 2 ** 31) * 128)));
    this.#data.push(to8(this.#min), to8(this.#max));
    this.#min = 0;
    this.#max = 0;
    this.#inPixel = 0;
  }

  /** The waveform so far, with any partial last pixel included. */
  result(): Waveform {
    if (this.#inPixel > 0) this.#flushPixel();
    return {
      version: 2,
      channels: 1,
      sample_rate: this.sampleRate,
      samples_per_pixel: this.samplesPerPixel,
      bits: 8,
      length: this.#data.length / 2,
      data: this.#data,
    };
  }
}
