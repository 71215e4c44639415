/** BBC audiowaveform JSON (version 2): min/max pairs per pixel, 8-bit. */
export type WaveformData = { bits: number; length: number; channels?: number; data: number[] };

/**
 * Draws a track's peaks on a canvas, the played part in the accent colour, and turns a click
 * (or a tap) into a seek to that point.
 */
export class Waveform {
  readonly canvas = document.createElement("canvas");
  #peaks: number[] = [];
  #progress = 0;

  constructor(onSeek: (fraction: number) => void) {
    this.canvas.className = "waveform";
    this.canvas.setAttribute("role", "slider");
    this.canvas.setAttribute("aria-label", "Seek");
    this.canvas.addEventListener("click", (e) => {
      const box = this.canvas.getBoundingClientRect();
      onSeek(Math.min(1, Math.max(0, (e.clientX - box.left) / box.width)));
    });
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  load(waveform: WaveformData | null): void {
    this.#peaks = [];
    if (waveform) {
      const full = 2 ** (waveform.bits - 1);
      const channels = waveform.channels ?? 1;
      for (let i = 0; i < waveform.length; i++) {
        let peak = 0;
        for (let c = 0; c < channels; c++) {
          const at = (i * channels + c) * 2;
          peak = Math.max(
            peak,
            Math.abs(waveform.data[at] ?? 0),
            Math.abs(waveform.data[at + 1] ?? 0),
          );
        }
        this.#peaks.push(Math.min(1, peak / full));
      }
    }
    this.draw();
  }

  set progress(fraction: number) {
    this.#progress = fraction;
    this.canvas.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    this.draw();
  }

  draw(): void {
    const ratio = devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(this.canvas);
    const bars = Math.max(1, Math.floor(width / (3 * ratio)));
    const barWidth = width / bars;
    for (let b = 0; b < bars; b++) {
      const from = Math.floor((b / bars) * this.#peaks.length);
      const to = Math.max(from + 1, Math.floor(((b + 1) / bars) * this.#peaks.length));
      let peak = 0;
      for (let i = from; i < to; i++) peak = Math.max(peak, this.#peaks[i] ?? 0);
      const bar = Math.max(ratio, peak * height);
      ctx.fillStyle =
        b / bars < this.#progress
          ? style.getPropertyValue("--accent") || "#e4572e"
          : style.getPropertyValue("--muted") || "#999";
      ctx.fillRect(b * barWidth, (height - bar) / 2, Math.max(1, barWidth - ratio), bar);
    }
  }
}
