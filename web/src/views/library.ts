import { api, describeError } from "../api";
import { h } from "../dom";
import type { View } from "../app";
import type { Library, Playlist, PlaylistItem, PlaylistWithItems } from "../types";
import { trackList } from "./track-list";

/** The library: own uploads, liked things, own playlists (with a form for a new one). */
export const library: View = async (app) => {
  const lib = await api.get<Library>("/v1/me/library?limit=50");
  const likedTracks = lib.likedTracks.items.flatMap((l) => (l.item ? [l.item] : []));
  const links = <T>(
    likes: { id: string; item: T | null }[],
    path: string,
    label: (t: T) => string,
  ) =>
    h(
      "ul",
      { class: "links" },
      likes.map((l) =>
        h(
          "li",
          {},
          l.item ? h("a", { href: `#/${path}/${l.id}` }, label(l.item)) : "(no longer available)",
        ),
      ),
    );
  const title = h("input", {
    name: "title",
    required: true,
    maxLength: 200,
    placeholder: "New playlist",
    "aria-label": "New playlist title",
  });
  const create = h(
    "form",
    {
      class: "inline",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const p = await api.post<Playlist>("/v1/playlists", { title: title.value });
          app.playlistsChanged();
          app.go(`#/playlist/${p.id}`);
        } catch (err) {
          app.toast(describeError(err), true);
        }
      },
    },
    title,
    h("button", { type: "submit" }, "Create"),
  );
  return h(
    "section",
    { class: "library" },
    h("h1", {}, "Your library"),
    h("h2", {}, `Your uploads (${lib.uploads.total})`),
    trackList(app, lib.uploads.items),
    h("h2", {}, `Liked tracks (${lib.likedTracks.total})`),
    trackList(app, likedTracks),
    h("h2", {}, `Playlists (${lib.playlists.total})`),
    h(
      "ul",
      { class: "links" },
      lib.playlists.items.map((p) =>
        h("li", {}, h("a", { href: `#/playlist/${p.id}` }, p.title), ` · ${p.itemCount} tracks`),
      ),
    ),
    create,
    lib.likedAlbums.total
      ? [h("h2", {}, "Liked albums"), links(lib.likedAlbums.items, "album", (a) => a.title)]
      : null,
    lib.likedArtists.total
      ? [h("h2", {}, "Liked artists"), links(lib.likedArtists.items, "artist", (a) => a.name)]
      : null,
    lib.likedPlaylists.total
      ? [
          h("h2", {}, "Liked playlists"),
          links(lib.likedPlaylists.items, "playlist", (p) => p.title),
        ]
      : null,
  );
};

const REASONS: ReadonlyMap<string, string> = new Map([
  ["NOT_VISIBLE", "no longer available"],
  ["NOT_READY", "still processing"],
  ["NOT_AVAILABLE_IN_TERRITORY", "not available where you are"],
]);

/** A playlist: its entries (unavailable ones marked), drag to reorder, remove, rename. */
export const playlist: View = async (app, [id = ""]) => {
  const p = await api.get<PlaylistWithItems>(`/v1/playlists/${id}`);
  const mine = api.user?.id === p.ownerId;
  let revision = p.revision;
  const change = async (method: string, path: string, body?: unknown) => {
    try {
      const updated = await api.request<Playlist>(method, path, body, {
        headers: { "If-Match": `"${revision}"` },
      });
      revision = updated?.revision ?? revision + 1;
    } catch (e) {
      app.toast(describeError(e), true);
    }
    app.playlistsChanged();
    await app.render();
  };
  const playable = p.items.flatMap((i) => (i.available && i.track ? [i.track] : []));
  let dragged: PlaylistItem | null = null;
  const rows = p.items.map((item) =>
    h(
      "li",
      {
        class: item.available ? "" : "unavailable",
        draggable: mine,
        dataset: { itemId: item.id, trackId: item.track?.id ?? "" },
        ondragstart: () => (dragged = item),
        ondragover: (e: DragEvent) => e.preventDefault(),
        ondrop: (e: DragEvent) => {
          e.preventDefault();
          if (dragged && dragged.id !== item.id)
            void change("PATCH", `/v1/playlists/${id}/tracks/${dragged.id}`, {
              position: item.position,
            });
        },
      },
      item.available && item.track
        ? h(
            "button",
            {
              class: "play-track",
              "aria-label": `Play ${item.track.title}`,
              onclick: () =>
                item.track && void app.player.playQueue(playable, playable.indexOf(item.track)),
            },
            "▶",
          )
        : h("span", { class: "badge" }, "—"),
      h(
        "span",
        { class: "title" },
        item.track?.title ?? "Unknown track",
        h(
          "small",
          {},
          item.track?.artist.name ?? "",
          item.available ? "" : ` · ${REASONS.get(item.unavailableReason ?? "") ?? "unavailable"}`,
        ),
      ),
      mine
        ? h(
            "button",
            {
              class: "remove",
              "aria-label": "Remove",
              onclick: () => void change("DELETE", `/v1/playlists/${id}/tracks/${item.id}`),
            },
            "✕",
          )
        : null,
    ),
  );
  const visibility = h(
    "select",
    {
      "aria-label": "Visibility",
      onchange: () => void change("PATCH", `/v1/playlists/${id}`, { visibility: visibility.value }),
    },
    h("option", { value: "private", selected: p.visibility === "private" }, "Private"),
    h("option", { value: "public", selected: p.visibility === "public" }, "Public"),
  );
  return h(
    "section",
    { class: "playlist", dataset: { revision: String(p.revision) } },
    h("h1", {}, p.title),
    p.description ? h("p", {}, p.description) : null,
    h(
      "p",
      {},
      `${p.itemCount} tracks · `,
      mine ? visibility : p.visibility,
      mine ? " · drag to reorder" : "",
    ),
    h("ol", { class: "tracks" }, rows),
    mine
      ? h(
          "button",
          {
            class: "danger",
            onclick: async () => {
              if (confirm(`Delete ${p.title}?`)) {
                await api.request("DELETE", `/v1/playlists/${id}`);
                app.playlistsChanged();
                app.go("#/library");
              }
            },
          },
          "Delete playlist",
        )
      : null,
  );
};
