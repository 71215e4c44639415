import { writeFile } from "node:fs/promises";
import path from "node:path";
import { ASSET_FILES, assetContentType, type Rendition } from "@edge-music/core/renditions";
import { readFmp4Layout } from "./fmp4.js";
import {
  dashManifest,
  masterPlaylist,
  measuredBandwidth,
  mediaPlaylist,
  type ManifestProtection,
  type RenditionOutput,
} from "./manifests.js";

export type RenditionSummary = {
  id: Rendition["id"];
  codecs: string;
  bandwidth: number;
  averageBandwidth: number;
  sizeBytes: number;
  fragments: number;
};

export type OutputFile = { name: string; contentType: string };

/**
 * Reads the finished media files of `renditions` under `outDir` and writes what addresses them:
 * each media playlist, the multivariant playlist and the MPD (with key signalling when
 * `protection` is given). Shared by transcoding and re-packaging.
 */
export async function writeManifests(
  outDir: string,
  renditions: readonly Rendition[],
  sampleRate: number | null,
  protection: ManifestProtection,
): Promise<{ durationSeconds: number; renditions: RenditionSummary[]; files: OutputFile[] }> {
  const outputs: RenditionOutput[] = [];
  const files: OutputFile[] = [];
  const add = (name: string) => files.push({ name, contentType: assetContentType(name) });
  for (const rendition of renditions) {
    const layout = await readFmp4Layout(path.join(outDir, ASSET_FILES.media(rendition.id)));
    // Our encoders give audio tracks the sample rate as their timescale.
    outputs.push({ rendition, layout, sampleRate: sampleRate ?? layout.timescale });
    await writeFile(
      path.join(outDir, ASSET_FILES.mediaPlaylist(rendition.id)),
      mediaPlaylist(layout, "media.mp4", protection),
    );
    add(ASSET_FILES.media(rendition.id));
    add(ASSET_FILES.mediaPlaylist(rendition.id));
  }
  // The lossless rendition carries no encoder priming: its length is the audio's length.
  const durationSeconds =
    outputs.find((o) => o.rendition.codec === "flac")?.layout.durationSeconds ??
    Math.max(...outputs.map((o) => o.layout.durationSeconds));
  await writeFile(path.join(outDir, ASSET_FILES.master), masterPlaylist(outputs));
  await writeFile(
    path.join(outDir, ASSET_FILES.mpd),
    dashManifest(outputs, durationSeconds, protection),
  );
  add(ASSET_FILES.master);
  add(ASSET_FILES.mpd);
  return {
    durationSeconds,
    renditions: outputs.map(({ rendition, layout }) => {
      const bw = measuredBandwidth(layout);
      return {
        id: rendition.id,
        codecs: rendition.codecs,
        bandwidth: bw.peak,
        averageBandwidth: bw.average,
        sizeBytes: layout.sizeBytes,
        fragments: layout.fragments.length,
      };
    }),
    files,
  };
}
