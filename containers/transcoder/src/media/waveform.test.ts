import { describe, expect, it } from "vitest";
import { WaveformMeter, samplesPerPixel } from "./waveform.js";

/** Interleaved stereo 16-bit PCM whose left channel is `left(i)` and right `right(i)`. */
function stereo(frames: number, left: (i: number) => number, right: (i: number) => number) {
  const pcm = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    pcm.writeInt16LE(left(i), i * 4);
    pcm.writeInt16LE(right(i), i * 4 + 2);
  }
  return pcm;
}

describe("WaveformMeter", () => {
  const rate = 8000;
  const spp = samplesPerPixel(rate); // 400 frames per pixel

  it("takes each pixel's lowest and highest sample over all channels, to 8 bits", () => {
    // Pixel 0: left rises to 32767, right falls to -32768; pixel 1: quiet; half a pixel more.
    const pcm = stereo(
      spp * 2.5,
      (i) => (i < spp ? Math.round((i / (spp - 1)) * 32767) : 256),
      (i) => (i < spp ? -Math.round((i / (spp - 1)) * 32768) : -512),
    );
    const meter = new WaveformMeter(rate, 2);
    meter.write(pcm);
    const waveform = meter.finish();
    expect(waveform).toMatchObject({ version: 2, channels: 1, bits: 8, sample_rate: rate });
    expect(waveform.samples_per_pixel).toBe(spp);
    expect(waveform.length).toBe(3);
    expect(waveform.data).toEqual([-128, 127, -2, 1, -2, 1]);
  });

  it("gives the same answer whatever the chunking, odd byte counts included", () => {
    const pcm = stereo(
      spp * 7 + 13,
      (i) => Math.round(20000 * Math.sin(i / 7)),
      (i) => Math.round(9000 * Math.cos(i / 3)),
    );
    const whole = new WaveformMeter(rate, 2);
    whole.write(pcm);
    const chunked = new WaveformMeter(rate, 2);
    for (let at = 0, size = 1; at < pcm.length; at += size, size = (size * 7 + 3) % 997)
      chunked.write(pcm.subarray(at, at + size));
    const expected = whole.finish();
    expect(expected.length).toBe(8);
    expect(chunked.finish()).toEqual(expected);
  });
});
