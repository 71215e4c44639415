/**
 * The bitrate ladder: every upload becomes these renditions, each one CMAF fragmented MP4
 * file that HLS (byte ranges), DASH and progressive download all address.
 */
export type Rendition = {
  /** Folder name under the asset version, and the id tokens and plans name. */
  id: "aac_64" | "aac_128" | "aac_256" | "flac";
  codec: "aac" | "flac";
  /** Target bitrate in bits per second; null for lossless. */
  bitrate: number | null;
  /** RFC 6381 codecs string for HLS CODECS and DASH @codecs. */
  codecs: string;
  /** Order from lowest to highest quality; plans cap playback at a rank. */
  rank: number;
};

export const RENDITIONS: readonly Rendition[] = [
  { id: "aac_64", codec: "aac", bitrate: 64_000, codecs: "mp4a.40.2", rank: 1 },
  { id: "aac_128", codec: "aac", bitrate: 128_000, codecs: "mp4a.40.2", rank: 2 },
  { id: "aac_256", codec: "aac", bitrate: 256_000, codecs: "mp4a.40.2", rank: 3 },
  { id: "flac", codec: "flac", bitrate: null, codecs: "fLaC", rank: 4 },
];

/** Target fragment length: ~6 s, the HLS authoring guideline for audio. */
export const FRAGMENT_SECONDS = 6;

/** File names inside an asset version (tracks/<trackId>/<assetVersion>/...). */
export const ASSET_FILES = {
  master: "master.m3u8",
  mpd: "manifest.mpd",
  waveform: "waveform.json",
  cover: "cover.jpg",
  mediaPlaylist: (rendition: string) => `${rendition}/index.m3u8`,
  media: (rendition: string) => `${rendition}/media.mp4`,
} as const;

/** Every file a transcode may write into an asset version (cover only when the source has one). */
export const ASSET_OUTPUT_NAMES: readonly string[] = [
  ASSET_FILES.master,
  ASSET_FILES.mpd,
  ASSET_FILES.waveform,
  ASSET_FILES.cover,
  ...RENDITIONS.flatMap((r) => [ASSET_FILES.media(r.id), ASSET_FILES.mediaPlaylist(r.id)]),
];

/** Content types of an asset version's files, by extension. */
const ASSET_CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ["m3u8", "application/vnd.apple.mpegurl"],
  ["mpd", "application/dash+xml"],
  ["mp4", "audio/mp4"],
  ["json", "application/json"],
  ["jpg", "image/jpeg"],
]);

/** The content type an asset file is stored and served with. */
export function assetContentType(name: string): string {
  return ASSET_CONTENT_TYPES.get(name.split(".").pop() ?? "") ?? "application/octet-stream";
}

export const PLANS = ["free", "premium"] as const;
export type Plan = (typeof PLANS)[number];

/** Plans and the highest rendition rank each may play: free up to AAC 128k, premium all. */
const FREE_MAX_RANK = 2;
const PLAN_MAX_RENDITION_RANK: ReadonlyMap<string, number> = new Map<Plan, number>([
  ["free", FREE_MAX_RANK],
  ["premium", 4],
]);

/** The highest rendition rank a plan plays; a name that is not a plan plays as Free. */
export function planMaxRank(plan: string): number {
  return PLAN_MAX_RENDITION_RANK.get(plan) ?? FREE_MAX_RANK;
}

const RENDITIONS_BY_ID: ReadonlyMap<string, Rendition> = new Map(RENDITIONS.map((r) => [r.id, r]));

/** The rendition named `id`, or undefined: names from requests and files are looked up here. */
export function renditionById(id: string): Rendition | undefined {
  return RENDITIONS_BY_ID.get(id);
}
