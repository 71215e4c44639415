import { api } from "../api";
import { h } from "../dom";
import type { View } from "../app";
import type { Album, Artist, Page, Track } from "../types";
import { likeButton, trackList } from "./track-list";

/** An artist: top tracks over 28 days, albums, similar listening. */
export const artist: View = async (app, [id = ""]) => {
  const [a, top, albums] = await Promise.all([
    api.get<Artist>(`/v1/artists/${id}`),
    api.get<{ items: (Track & { streams: number })[] }>(`/v1/artists/${id}/top-tracks?limit=10`),
    api.get<Page<Album>>(`/v1/artists/${id}/albums?limit=50`),
  ]);
  return h(
    "section",
    {},
    h("h1", {}, a.name, api.signedIn ? likeButton("artist", a.id) : null),
    a.bio ? h("p", {}, a.bio) : null,
    h("h2", {}, "Top tracks"),
    trackList(app, top.items, (t) =>
      h("span", { class: "streams" }, `${(t as Track & { streams: number }).streams} streams`),
    ),
    h("h2", {}, "Albums"),
    albums.items.length
      ? h(
          "ul",
          { class: "links" },
          albums.items.map((al) =>
            h(
              "li",
              {},
              h("a", { href: `#/album/${al.id}` }, al.title),
              al.releaseDate ? ` (${al.releaseDate.slice(0, 4)})` : "",
            ),
          ),
        )
      : h("p", { class: "empty" }, "No albums yet."),
  );
};

/** An album and its tracklist. */
export const album: View = async (app, [id = ""]) => {
  const al = await api.get<Album & { tracks: Track[] }>(`/v1/albums/${id}`);
  return h(
    "section",
    {},
    h("h1", {}, al.title, api.signedIn ? likeButton("album", al.id) : null),
    h(
      "p",
      {},
      h("a", { href: `#/artist/${al.artist.id}` }, al.artist.name),
      al.releaseDate ? ` · ${al.releaseDate}` : "",
    ),
    trackList(app, al.tracks),
  );
};

/** A track: where it sits and what listeners of it also play. */
export const track: View = async (app, [id = ""]) => {
  const [t, similar] = await Promise.all([
    api.get<Track>(`/v1/tracks/${id}`),
    api.get<{ items: { track: Track; reason: { text: string } }[] }>(
      `/v1/tracks/${id}/similar?limit=10`,
    ),
  ]);
  return h(
    "section",
    {},
    h("h1", {}, t.title),
    trackList(app, [t]),
    h("h2", {}, "Similar"),
    trackList(
      app,
      similar.items.map((i) => i.track),
    ),
  );
};
