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

/** Kinds of material the benchmarks measure: each stresses the AAC encoder differently. */
export const MATERIALS = ["noise", "chord", "mix"];

// An 8-second bar pattern of the mix: a bass line and an arpeggio over four chords (2 s
// each), a kick on every beat and a hi-hat between, each voice panned its own way.
const BAR = "floor(mod(t/2\\,4))";
const ROOT = `(5*eq(${BAR}\\,1)+7*eq(${BAR}\\,2)+3*eq(${BAR}\\,3))`;
const STEP = "floor(mod(t*4\\,4))";
const ARP = `(4*eq(${STEP}\\,1)+7*eq(${STEP}\\,2)+12*eq(${STEP}\\,3))`;
const BASS = `0.22*sin(2*PI*55*pow(2\\,${ROOT}/12)*t)`;
const LEAD = `0.16*sin(2*PI*440*pow(2\\,(${ROOT}+${ARP})/12)*t)*exp(-mod(t\\,0.25)*6)`;
const KICK = "0.35*sin(2*PI*50*t)*exp(-mod(t\\,0.5)*14)";
const HAT = "(random(0)*2-1)*0.1*exp(-mod(t+0.125\\,0.25)*45)";

/**
 * Stereo 44.1 kHz FLAC of one kind of material:
 * - `noise`: independent pink noise in each channel (dense, cheap for the encoder);
 * - `chord`: a sustained three-note chord voiced differently left and right (tonal music:
 *   what makes ffmpeg's default AAC coder loop);
 * - `mix`: bass, arpeggio, kick and hi-hat, panned, like a produced track.
 * `root` (Hz, default 220) transposes the chord, so an album's tracks differ.
 */
export function makeMaterial(path, seconds, kind, options = {}) {
  const r = options.root ?? 220;
  const [third, fifth, octave] = [r * 1.2599, r * 1.4983, r * 3].map((f) => f.toFixed(2));
  const inputs = {
    noise: [
      "-f",
      "lavfi",
      "-i",
      `anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:duration=${seconds}:seed=1`,
      "-f",
      "lavfi",
      "-i",
      `anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:duration=${seconds}:seed=2`,
      "-filter_complex",
      "[0][1]join=inputs=2:channel_layout=stereo",
    ],
    chord: [
      "-f",
      "lavfi",
      "-i",
      `aevalsrc=0.25*sin(2*PI*${r}*t)+0.18*sin(2*PI*${third}*t)+0.15*sin(2*PI*${fifth}*t)+0.05*sin(2*PI*${octave}*t)|0.2*sin(2*PI*${r}*t)+0.2*sin(2*PI*${third}*t)*(0.7+0.3*sin(2*PI*0.5*t))+0.15*sin(2*PI*${fifth}*t):s=44100:d=${seconds}`,
    ],
    mix: [
      "-f",
      "lavfi",
      "-i",
      `aevalsrc=${BASS}+0.8*${LEAD}+${KICK}+0.5*${HAT}|${BASS}+0.5*${LEAD}+${KICK}+${HAT}:s=44100:d=8`,
      "-af",
      `aloop=loop=-1:size=${8 * 44100},atrim=duration=${seconds}`,
    ],
  };
  if (!Object.hasOwn(inputs, kind)) throw new Error(`unknown material ${kind}`);
  ffmpeg([...inputs[kind], "-c:a", "flac", path]);
}
