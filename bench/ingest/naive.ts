/**
 * The naive ingest, for comparison: one ffmpeg run per rendition, then separate runs for
 * loudness, the waveform (8 kHz PCM read back) and the fingerprint, one after another.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { RENDITIONS } from "@edge-music/core/renditions";
import { renditionOutputArgs } from "@edge-music/transcoder/media/ffmpeg-args";
import { cpuSecondsWithChildren } from "./cpu";

const [source, out] = process.argv.slice(2);
if (!source || !out) throw new Error("usage: naive <source> <out>");
const run = (args: string[]) => {
  const r = spawnSync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", ...args], {
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};
const started = performance.now();
for (const r of RENDITIONS)
  run(["-i", source, ...renditionOutputArgs(r, path.join(out, `${r.id}.mp4`), 16), "-y"]);
run(["-i", source, "-af", "ebur128=peak=true", "-f", "null", "-"]);
const pcm = run(["-i", source, "-ac", "1", "-ar", "8000", "-f", "s16le", "pipe:1"]);
let peak = 0;
for (let i = 0; i + 1 < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
run([
  "-i",
  source,
  "-t",
  "120",
  "-f",
  "chromaprint",
  "-fp_format",
  "base64",
  "-y",
  path.join(out, "fp.txt"),
]);
readFileSync(path.join(out, "fp.txt"));
console.log(
  JSON.stringify({
    wallSeconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSecondsWithChildren(),
  }),
);
