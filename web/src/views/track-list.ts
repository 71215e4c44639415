import { api, describeError } from "../api";
import { clock, h } from "../dom";
import type { Track } from "../types";
import type { App } from "../app";

/**
 * A list of tracks: play (the list becomes the queue), like, add to a playlist. Tracks that
 * are not ready yet are listed without a play button.
 */
export function trackList(
  app: App,
  tracks: Track[],
  extra?: (t: Track) => Node | null,
): HTMLElement {
  if (!tracks.length) return h("p", { class: "empty" }, "No tracks here yet.");
  const playable = tracks.filter((t) => t.status === "ready");
  return h(
    "ol",
    { class: "tracks" },
    tracks.map((t) =>
      h(
        "li",
        { dataset: { trackId: t.id } },
        t.status === "ready"
          ? h(
              "button",
              {
                class: "play-track",
                "aria-label": `Play ${t.title}`,
                onclick: () => void app.player.playQueue(playable, playable.indexOf(t)),
              },
              "▶",
            )
          : h("span", { class: "badge" }, t.status),
        h(
          "span",
          { class: "title" },
          t.title,
          h(
            "small",
            {},
            h("a", { href: `#/artist/${t.artist.id}` }, t.artist.name),
            t.album ? [" · ", h("a", { href: `#/album/${t.album.id}` }, t.album.title)] : null,
          ),
        ),
        h("span", { class: "duration" }, t.durationMs ? clock(t.durationMs / 1000) : ""),
        api.signedIn ? likeButton("track", t.id) : null,
        api.signedIn && t.status === "ready" ? addToPlaylist(app, t) : null,
        extra ? extra(t) : null,
      ),
    ),
  );
}

/** A heart that likes and unlikes (the api is idempotent both ways). */
export function likeButton(type: string, id: string, liked = false): HTMLButtonElement {
  const button = h("button", { class: "like", "aria-pressed": String(liked), title: "Like" }, "♡");
  const show = () => {
    button.textContent = liked ? "♥" : "♡";
    button.setAttribute("aria-pressed", String(liked));
  };
  button.addEventListener("click", () => {
    liked = !liked;
    show();
    api.request(liked ? "PUT" : "DELETE", `/v1/me/likes/${type}/${id}`).catch((e: unknown) => {
      liked = !liked;
      show();
      alert(describeError(e));
    });
  });
  show();
  return button;
}

function addToPlaylist(app: App, track: Track): HTMLElement {
  const select = h(
    "select",
    {
      class: "add-to-playlist",
      "aria-label": `Add ${track.title} to a playlist`,
      onfocus: async () => {
        if (select.options.length > 1) return;
        const mine = await app.myPlaylists();
        select.append(...mine.map((p) => h("option", { value: p.id }, p.title)));
      },
      onchange: async () => {
        const id = select.value;
        select.value = "";
        if (!id) return;
        try {
          await api.post(`/v1/playlists/${id}/tracks`, { trackIds: [track.id] });
          app.toast(`Added ${track.title}.`);
        } catch (e) {
          app.toast(describeError(e), true);
        }
      },
    },
    h("option", { value: "" }, "+ Playlist"),
  );
  return select;
}
