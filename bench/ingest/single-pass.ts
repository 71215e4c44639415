/**
 * Runs one transcode the way the transcoder does (probe, then the decode-once pipeline) and
 * prints its wall and CPU seconds and the renditions' bytes as JSON. CPU includes every
 * ffmpeg child (cutime/cstime). A third argument `cbcs` encrypts as a protected deployment does.
 */
import { randomBytes } from "node:crypto";
import { transcode } from "@edge-music/transcoder/media/pipeline";
import { probeSource } from "@edge-music/transcoder/media/probe";
import { cpuSecondsWithChildren } from "./cpu";

const [source, out, protection] = process.argv.slice(2);
if (!source || !out) throw new Error("usage: single-pass <source> <out> [cbcs]");
const key =
  protection === "cbcs"
    ? { keyId: randomBytes(16).toString("hex"), key: randomBytes(16).toString("hex") }
    : null;
const started = performance.now();
const probed = await probeSource(source, 4 * 3600);
if (!probed.ok) throw new Error(probed.refusal.reason);
const outcome = await transcode(source, probed.source, out, undefined, undefined, undefined, key);
if (!outcome.ok) throw new Error(JSON.stringify(outcome.failure));
console.log(
  JSON.stringify({
    wallSeconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSecondsWithChildren(),
    mediaBytes: outcome.result.renditions.reduce((sum, r) => sum + r.sizeBytes, 0),
  }),
);
