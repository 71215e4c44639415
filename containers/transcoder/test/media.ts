import { spawnSync } from "node:child_process";

/** Peak amplitude of a stereo 1 kHz sine that measures -23 LUFS (EBU Tech 3341, case 1). */
export const MINUS_23_LUFS_AMPLITUDE = 10 ** (-23 / 20);

function ffmpeg(args: string[]): void {
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
export function makeReferenceTone(path: string, seconds: number): void {
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
 * Music-like audio (a chord with tremolo over pink noise) with tags and, optionally, an
 * embedded cover picture, in whatever container `path`'s extension names.
 */
export function makeMusic(
  path: string,
  seconds: number,
  options: { tags?: Record<string, string>; cover?: boolean; codec?: string[] } = {},
): void {
  const chord = `aevalsrc=0.2*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*2*t))+0.15*sin(2*PI*277.18*t)+0.12*sin(2*PI*329.63*t)|0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277.18*t)*(0.6+0.4*sin(2*PI*3*t))+0.12*sin(2*PI*329.63*t):s=44100:d=${seconds}`;
  const inputs = [
    "-f",
    "lavfi",
    "-i",
    chord,
    "-f",
    "lavfi",
    "-i",
    `anoisesrc=color=pink:amplitude=0.05:sample_rate=44100:duration=${seconds}`,
  ];
  const filter = [
    "-filter_complex",
    "[1]pan=stereo|c0=c0|c1=c0[n];[0][n]amix=inputs=2:normalize=0[a]",
    "-map",
    "[a]",
  ];
  const cover = options.cover
    ? [
        "-f",
        "lavfi",
        "-i",
        "color=c=0x3355aa:s=320x320:d=1,format=yuvj420p",
        "-map",
        "2:v",
        "-c:v",
        "mjpeg",
        "-frames:v",
        "1",
        "-disposition:v:0",
        "attached_pic",
      ]
    : [];
  const tags = Object.entries(options.tags ?? {}).flatMap(([k, v]) => ["-metadata", `${k}=${v}`]);
  ffmpeg([
    ...inputs,
    ...(options.cover ? cover.slice(0, 4) : []),
    ...filter,
    ...(options.cover ? cover.slice(4) : []),
    ...(options.codec ?? []),
    ...tags,
    path,
  ]);
}
