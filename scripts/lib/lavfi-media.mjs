// Test and demo audio made on the spot with ffmpeg's lavfi sources: nothing binary is
// committed. Used by the tests, the benchmarks and `npm start`'s demo catalog.
import { spawnSync } from "node:child_process";

/** Peak amplitude of a stereo 1 kHz sine that measures -23 LUFS (EBU Tech 3341, case 1). */
export const MINUS_23_LUFS_AMPLITUDE = 10 ** (-23 / 20);

function ffmpeg(args) {
  const run = spawnSync(
    "ffmpeg",
    ["-nostdin", "-hide_banner", "-loglevel", "error", ...args, "-y"],
    {
      encoding: "utf8",
    },
  );
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr}`);
}

/** A stereo 1 kHz tone at -23 LUFS. */
export function makeReferenceTone(path, seconds) {
  const a = MINUS_23_LUFS_AMPLITUDE.toFixed(7);
  ffmpeg([
    "-f",
    "lavfi",
    "-i",
    `aevalsrc=${a}*sin(2*PI*1000*t)|${a}*sin(2*PI*1000*t):s=44100:d=${seconds}`,
    "-c:a",
    "flac",
    path,
  ]);
}

/**
 * Music-like audio (a chord with tremolo over pink noise; `root` Hz sets the key) with
 * tags and, optionally, an embedded cover picture of `coverColor`, in whatever container
 * `path`'s extension names.
 */
export function makeMusic(path, seconds, options = {}) {
  const r = options.root ?? 220;
  const [third, fifth] = [r * 1.2599, r * 1.4983].map((f) => f.toFixed(2));
  const chord = `aevalsrc=0.2*sin(2*PI*${r}*t)*(0.6+0.4*sin(2*PI*2*t))+0.15*sin(2*PI*${third}*t)+0.12*sin(2*PI*${fifth}*t)|0.2*sin(2*PI*${r}*t)+0.15*sin(2*PI*${third}*t)*(0.6+0.4*sin(2*PI*3*t))+0.12*sin(2*PI*${fifth}*t):s=44100:d=${seconds}`;
  const args = [
    "-f",
    "lavfi",
    "-i",
    chord,
    "-f",
    "lavfi",
    "-i",
    `anoisesrc=color=pink:amplitude=0.05:sample_rate=44100:duration=${seconds}`,
  ];
  if (options.cover)
    args.push(
      "-f",
      "lavfi",
      "-i",
      `color=c=${options.coverColor ?? "0x3355aa"}:s=320x320:d=1,format=yuvj420p`,
    );
  args.push(
    "-filter_complex",
    "[1]pan=stereo|c0=c0|c1=c0[n];[0][n]amix=inputs=2:normalize=0[a]",
    "-map",
    "[a]",
  );
  if (options.cover)
    args.push("-map", "2:v", "-c:v", "mjpeg", "-frames:v", "1", "-disposition:v:0", "attached_pic");
  args.push(...(options.codec ?? []));
  for (const [k, v] of Object.entries(options.tags ?? {})) args.push("-metadata", `${k}=${v}`);
  ffmpeg([...args, path]);
}
