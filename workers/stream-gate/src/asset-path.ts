import { ASSET_FILES, RENDITIONS, renditionById } from "@edge-music/core/renditions";

export type AssetFile = {
  name: string;
  renditionRank: number | null;
  kind: "playlist" | "manifest" | "media" | "json" | "image";
};

/** The asset's files that are not per rendition. A Map: a path never finds an inherited name. */
const FIXED: ReadonlyMap<string, AssetFile["kind"]> = new Map([
  [ASSET_FILES.master, "playlist"],
  [ASSET_FILES.mpd, "manifest"],
  [ASSET_FILES.waveform, "json"],
  [ASSET_FILES.cover, "image"],
]);

/**
 * Maps the path after the token to one of the files an asset version has, or null. Only
 * exact names pass: no `..`, no encoded slashes, no other files of the bucket.
 */
export function parseAssetPath(rawPath: string): AssetFile | null {
  // The path arrives percent-encoded; any escape at all is refused rather than decoded.
  if (rawPath.includes("%") || rawPath.includes("\\")) return null;
  const fixed = FIXED.get(rawPath);
  if (fixed) return { name: rawPath, renditionRank: null, kind: fixed };
  for (const r of RENDITIONS) {
    if (rawPath === ASSET_FILES.mediaPlaylist(r.id))
      return { name: rawPath, renditionRank: r.rank, kind: "playlist" };
    if (rawPath === ASSET_FILES.media(r.id))
      return { name: rawPath, renditionRank: r.rank, kind: "media" };
  }
  return null;
}

export const CONTENT_TYPES: Record<AssetFile["kind"], string> = {
  playlist: "application/vnd.apple.mpegurl",
  manifest: "application/dash+xml",
  media: "audio/mp4",
  json: "application/json",
  image: "image/jpeg",
};

/** Multivariant playlist without the variants above `maxRank`. */
export function filterMasterPlaylist(text: string, maxRank: number): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("#EXT-X-STREAM-INF")) {
      const uri = lines[i + 1] ?? "";
      const rendition = RENDITIONS.find((r) => uri === ASSET_FILES.mediaPlaylist(r.id));
      i++;
      if (rendition && rendition.rank <= maxRank) out.push(line, uri);
      continue;
    }
    out.push(line);
  }
  return out.join("\n");
}

/** DASH manifest without the representations (and emptied adaptation sets) above `maxRank`. */
export function filterManifest(xml: string, maxRank: number): string {
  const withoutReps = xml.replace(
    / *<Representation id="([^"]+)"[\s\S]*?<\/Representation>\n?/g,
    (block, id: string) => {
      const rendition = renditionById(id);
      return rendition && rendition.rank <= maxRank ? block : "";
    },
  );
  // A set left with no representation goes too, whatever else it holds (ContentProtection).
  return withoutReps.replace(/ *<AdaptationSet [^>]*>[\s\S]*?<\/AdaptationSet>\n?/g, (set) =>
    set.includes("<Representation ") ? set : "",
  );
}
