import { completionPrefixes, foldText } from "@edge-music/core/search-text";
import { albumDoc, artistDoc, trackDoc, type SearchDocument } from "@edge-music/api/search-index";

/** A deterministic pseudo-random generator, so every run loads the same catalog. */
export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ONSETS = [
  "b",
  "br",
  "c",
  "d",
  "dr",
  "f",
  "g",
  "gl",
  "h",
  "j",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "st",
  "t",
  "v",
  "w",
  "z",
];
const VOWELS = ["a", "e", "i", "o", "u", "ou", "ai", "é", "ö", "á", "y"];
const CODAS = ["", "", "n", "r", "s", "l", "m", "nd", "st", "x"];
const COMMON = [
  "love",
  "night",
  "sun",
  "heart",
  "dream",
  "fire",
  "blue",
  "summer",
  "road",
  "light",
  "rain",
  "gold",
  "city",
  "home",
  "wild",
];

export type Catalog = {
  artists: { id: string; name: string; popularity: number }[];
  albums: { id: string; artistId: string; title: string; popularity: number }[];
  tracks: { id: string; artistId: string; albumId: string; title: string; popularity: number }[];
};

/** Artists, albums and tracks with invented names (some accented, some common words). */
export function generateCatalog(trackCount: number, seed = 42): Catalog {
  const random = rng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const word = () => {
    if (random() < 0.25) return pick(COMMON);
    const syllables = 1 + Math.floor(random() * 3);
    let w = "";
    for (let i = 0; i < syllables; i++) w += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
    return w;
  };
  const title = (words: number) =>
    Array.from({ length: words }, word)
      .map((w) => w[0]?.toUpperCase() + w.slice(1))
      .join(" ");
  // Zipf-like popularity: a few hits, a long tail.
  const popularity = () => Math.floor(1_000_000 / (1 + Math.floor(random() * 10_000)));

  const catalog: Catalog = { artists: [], albums: [], tracks: [] };
  const artistCount = Math.max(1, Math.round(trackCount / 20));
  for (let a = 0; a < artistCount; a++) {
    catalog.artists.push({
      id: `art_b${a}`,
      name: title(1 + Math.floor(random() * 2)),
      popularity: popularity(),
    });
  }
  let albumIndex = 0;
  for (let t = 0; t < trackCount; t++) {
    const artist = catalog.artists[Math.floor(t / 20) % artistCount];
    if (!artist) throw new Error("no artist");
    if (t % 10 === 0) {
      catalog.albums.push({
        id: `alb_b${albumIndex++}`,
        artistId: artist.id,
        title: title(1 + Math.floor(random() * 3)),
        popularity: popularity(),
      });
    }
    const album = catalog.albums.at(-1);
    if (!album) throw new Error("no album");
    catalog.tracks.push({
      id: `trk_b${t}`,
      artistId: artist.id,
      albumId: album.id,
      title: title(1 + Math.floor(random() * 4)),
      popularity: popularity(),
    });
  }
  return catalog;
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * SQL statements that load the catalog and its search index, a few hundred rows each, as
 * the api's search-index service would write them (same folding, same columns).
 */
export function* loadStatements(catalog: Catalog, ownerId: string, chunk = 400): Generator<string> {
  const rows = function* <T>(items: T[]) {
    for (let i = 0; i < items.length; i += chunk) yield items.slice(i, i + chunk);
  };
  const artistName = new Map(catalog.artists.map((a) => [a.id, a.name]));
  const albumTitle = new Map(catalog.albums.map((a) => [a.id, a.title]));
  let rowid = 1;
  // The same documents the api's search index service writes.
  const docs: (SearchDocument & { rowid: number })[] = [];
  for (const a of catalog.artists) docs.push({ rowid: rowid++, ...artistDoc(a) });
  for (const a of catalog.albums)
    docs.push({ rowid: rowid++, ...albumDoc(a, artistName.get(a.artistId) ?? "") });
  for (const t of catalog.tracks) {
    const doc = trackDoc(
      { ...t, visibility: "public", ownerId },
      artistName.get(t.artistId) ?? "",
      albumTitle.get(t.albumId) ?? null,
    );
    docs.push({ rowid: rowid++, ...doc });
  }
  yield `INSERT INTO users (id, email, display_name, password_hash, role) VALUES (${quote(ownerId)}, 'bench@bench.local', 'Bench', 'x', 'artist')`;
  for (const part of rows(catalog.artists)) {
    yield `INSERT INTO artists (id, name, owner_id, popularity) VALUES ${part.map((a) => `(${quote(a.id)}, ${quote(a.name)}, ${quote(ownerId)}, ${a.popularity})`).join(",")}`;
  }
  for (const part of rows(catalog.albums)) {
    yield `INSERT INTO albums (id, artist_id, title, popularity) VALUES ${part.map((a) => `(${quote(a.id)}, ${quote(a.artistId)}, ${quote(a.title)}, ${a.popularity})`).join(",")}`;
  }
  for (const part of rows(catalog.tracks)) {
    yield `INSERT INTO tracks (id, title, artist_id, album_id, owner_id, popularity, visibility, status) VALUES ${part
      .map(
        (t) =>
          `(${quote(t.id)}, ${quote(t.title)}, ${quote(t.artistId)}, ${quote(t.albumId)}, ${quote(ownerId)}, ${t.popularity}, 'public', 'ready')`,
      )
      .join(",")}`;
  }
  for (const part of rows(docs)) {
    yield `INSERT INTO search_docs (rowid, kind, ref_id, popularity, visibility, owner_id) VALUES ${part
      .map(
        (d) =>
          `(${d.rowid}, ${quote(d.kind)}, ${quote(d.refId)}, ${d.popularity}, ${quote(d.visibility)}, ${d.ownerId ? quote(d.ownerId) : "NULL"})`,
      )
      .join(",")}`;
    yield `INSERT INTO search_fts (rowid, name, context) VALUES ${part.map((d) => `(${d.rowid}, ${quote(d.name)}, ${quote(d.context)})`).join(",")}`;
    yield `INSERT INTO search_trigram (rowid, text) VALUES ${part.map((d) => `(${d.rowid}, ${quote(foldText(`${d.name} ${d.context}`))})`).join(",")}`;
    const completions = part.flatMap((d) =>
      d.visibility === "public"
        ? completionPrefixes(d.name).map(
            (c) => `(${quote(c.prefix)}, ${c.starts}, ${d.popularity}, ${d.rowid})`,
          )
        : [],
    );
    for (let i = 0; i < completions.length; i += chunk) {
      yield `INSERT OR IGNORE INTO search_completions (prefix, starts, popularity, doc_rowid) VALUES ${completions.slice(i, i + chunk).join(",")}`;
    }
  }
}
