/**
 * `npm run bench:encoders`: for each kind of material and each AAC rung, ffmpeg's default
 * `twoloop` coder against the settings the transcoder uses: encoding time, bitrate reached,
 * the difference signal against the source (signal-to-difference ratio over the whole band
 * and within the kept band) and the bandwidth kept. One encode per cell, alternating, so
 * both columns see the same machine.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RENDITIONS } from "@edge-music/core/renditions";
import { renditionCodecArgs } from "@edge-music/transcoder/media/ffmpeg-args";
import { MATERIALS, makeMaterial } from "@edge-music/testkit/lavfi-media";
import { compare, decodeStereo } from "./quality";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 240);
const work = mkdtempSync(path.join(tmpdir(), "bench-encoders-"));

function encode(source: string, codecArgs: string[]) {
  const out = path.join(work, "out.mp4");
  const started = performance.now();
  // prettier-ignore
  const r = spawnSync("ffmpeg", [
    "-nostdin", "-loglevel", "error", "-i", source, ...codecArgs,
    "-f", "mp4", "-movflags", "+empty_moov+default_base_moof+cmaf", "-y", out,
  ]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, kbps: (statSync(out).size * 8) / SECONDS / 1000, decoded: decodeStereo(out) };
}

try {
  console.log(
    `AAC encoder settings, ${SECONDS} s of 44.1 kHz stereo per material; SDR = signal to difference (dB), in-band = below the kept bandwidth`,
  );
  console.log(
    "material rung     coder      time s  realtime  kb/s  SDR dB  in-band dB  bandwidth Hz",
  );
  for (const material of MATERIALS) {
    const source = path.join(work, `${material}.flac`);
    makeMaterial(source, SECONDS, material);
    const reference = decodeStereo(source);
    for (const rendition of RENDITIONS.filter((r) => r.codec === "aac")) {
      const candidates = [
        ["twoloop", ["-c:a", "aac", "-b:a", String(rendition.bitrate)]],
        ["ours", renditionCodecArgs(rendition, 16)],
      ] as const;
      for (const [name, args] of candidates) {
        const e = encode(source, [...args]);
        const q = compare(reference, e.decoded);
        console.log(
          `${material.padEnd(8)} ${rendition.id.padEnd(9)} ${name.padEnd(9)} ${e.seconds.toFixed(1).padStart(7)} ${(SECONDS / e.seconds).toFixed(0).padStart(8)}x ${e.kbps.toFixed(0).padStart(5)} ${q.snrDb.toFixed(1).padStart(7)} ${q.inBandSnrDb.toFixed(1).padStart(11)} ${String(q.bandwidthHz).padStart(13)}`,
        );
      }
    }
    rmSync(source);
  }
  console.log(
    "ours = the transcoder's renditionCodecArgs: the fast coder at every rung, 64k with a 12 kHz cutoff, 256k without mid/side",
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
