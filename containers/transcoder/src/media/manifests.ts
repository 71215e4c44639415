import { hexToBytes } from "@edge-music/core/bytes";
import {
  CLEARKEY_KEY_SYSTEM,
  CLEARKEY_SYSTEM_ID,
  keyIdToUuid,
} from "@edge-music/core/content-protection";
import type { Rendition } from "@edge-music/core/renditions";
import type { Fmp4Layout } from "./fmp4.js";

/** Peak and average bits per second, measured from the fragments actually written. */
export function measuredBandwidth(layout: Fmp4Layout): { peak: number; average: number } {
  let peak = 0;
  let bytes = 0;
  let seconds = 0;
  for (const f of layout.fragments) {
    if (f.durationSeconds <= 0) continue;
    // A short final fragment carries container overhead over little audio: skip it for the peak.
    if (f.durationSeconds >= 1) peak = Math.max(peak, (f.length * 8) / f.durationSeconds);
    bytes += f.length;
    seconds += f.durationSeconds;
  }
  const average = seconds > 0 ? (bytes * 8) / seconds : 0;
  return { peak: Math.ceil(Math.max(peak, average)), average: Math.ceil(average) };
}

const range = (length: number, offset: number) => `${length}@${offset}`;

/** How an asset's media is encrypted, as manifests state it (never the key). */
export type ManifestProtection = { scheme: "cbcs"; keyId: string } | null;

/**
 * HLS key signalling for cbcs media: SAMPLE-AES with the key id and the ClearKey key format.
 * The URI carries the key id too (players that build EME requests from it read it there); the
 * key itself comes from the license endpoint, never from the playlist.
 */
export function hlsKeyTag(keyId: string): string {
  const kidBase64 = Buffer.from(hexToBytes(keyId)).toString("base64");
  return `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,${kidBase64}",KEYID=0x${keyId},KEYFORMAT="${CLEARKEY_KEY_SYSTEM}",KEYFORMATVERSIONS="1"`;
}

/** An HLS v7 media playlist addressing one fMP4 file by byte ranges. */
export function mediaPlaylist(
  layout: Fmp4Layout,
  mediaFile: string,
  protection: ManifestProtection = null,
): string {
  const target = Math.max(1, ...layout.fragments.map((f) => Math.ceil(f.durationSeconds)));
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${target}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    ...(protection ? [hlsKeyTag(protection.keyId)] : []),
    `#EXT-X-MAP:URI="${mediaFile}",BYTERANGE="${range(layout.init.length, layout.init.offset)}"`,
  ];
  for (const f of layout.fragments) {
    lines.push(
      `#EXTINF:${f.durationSeconds.toFixed(6)},`,
      `#EXT-X-BYTERANGE:${range(f.length, f.offset)}`,
      mediaFile,
    );
  }
  lines.push("#EXT-X-ENDLIST", "");
  return lines.join("\n");
}

export type RenditionOutput = { rendition: Rendition; layout: Fmp4Layout; sampleRate: number };

/** The multivariant playlist: one variant per rendition, lowest first. */
export function masterPlaylist(outputs: RenditionOutput[]): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const { rendition, layout } of [...outputs].sort(
    (a, b) => a.rendition.rank - b.rendition.rank,
  )) {
    const bw = measuredBandwidth(layout);
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${bw.peak},AVERAGE-BANDWIDTH=${bw.average},CODECS="${rendition.codecs}"`,
      `${rendition.id}/index.m3u8`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

const xmlDuration = (seconds: number) => `PT${seconds.toFixed(3)}S`;

/**
 * A static DASH MPD over the same files: AAC renditions in one switchable adaptation set,
 * FLAC in its own. Segment byte ranges are the HLS playlists' ranges, by construction.
 */
export function dashManifest(
  outputs: RenditionOutput[],
  durationSeconds: number,
  protection: ManifestProtection = null,
): string {
  // The scheme with the default key id, then one element per DRM system that may license it
  // (ClearKey here; Widevine and PlayReady add theirs). No Common-PSSH element: dash.js 5.2
  // fails on it.
  const contentProtection = protection
    ? [
        `      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="${protection.scheme}" cenc:default_KID="${keyIdToUuid(protection.keyId)}"/>`,
        `      <ContentProtection schemeIdUri="urn:uuid:${CLEARKEY_SYSTEM_ID}" value="ClearKey1.0"/>`,
      ]
    : [];
  const sets = new Map<string, RenditionOutput[]>();
  for (const output of [...outputs].sort((a, b) => a.rendition.rank - b.rendition.rank)) {
    const list = sets.get(output.rendition.codec) ?? [];
    list.push(output);
    sets.set(output.rendition.codec, list);
  }
  const adaptationSets = [...sets.values()].map((list, index) => {
    const representations = list.map(({ rendition, layout, sampleRate }) => {
      const bw = measuredBandwidth(layout);
      const timeline = layout.fragments
        .map(
          (f) =>
            `          <S t="${Math.round(f.startSeconds * layout.timescale)}" d="${Math.round(f.durationSeconds * layout.timescale)}"/>`,
        )
        .join("\n");
      const segments = layout.fragments
        .map((f) => `        <SegmentURL mediaRange="${f.offset}-${f.offset + f.length - 1}"/>`)
        .join("\n");
      return [
        `      <Representation id="${rendition.id}" bandwidth="${bw.peak}" codecs="${rendition.codecs}" audioSamplingRate="${sampleRate}">`,
        `        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>`,
        `        <BaseURL>${rendition.id}/media.mp4</BaseURL>`,
        `        <SegmentList timescale="${layout.timescale}">`,
        `          <Initialization range="${layout.init.offset}-${layout.init.offset + layout.init.length - 1}"/>`,
        "          <SegmentTimeline>",
        timeline,
        "          </SegmentTimeline>",
        segments,
        "        </SegmentList>",
        "      </Representation>",
      ].join("\n");
    });
    return [
      `    <AdaptationSet id="${index}" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" lang="und">`,
      ...contentProtection,
      ...representations,
      "    </AdaptationSet>",
    ].join("\n");
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"${protection ? ' xmlns:cenc="urn:mpeg:cenc:2013"' : ""} profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="${xmlDuration(durationSeconds)}" minBufferTime="PT2S">`,
    `  <Period id="0" start="PT0S">`,
    ...adaptationSets,
    "  </Period>",
    "</MPD>",
    "",
  ].join("\n");
}
