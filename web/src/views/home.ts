import { api } from "../api";
import { h } from "../dom";
import type { View } from "../app";
import type { Suggestion, Track } from "../types";
import { trackList } from "./track-list";

/** Home: recommendations with their reasons for a signed-in listener, a welcome otherwise. */
export const home: View = async (app) => {
  if (!api.signedIn) {
    return h(
      "section",
      { class: "welcome" },
      h("h1", {}, "Music from the nearest edge"),
      h(
        "p",
        {},
        h("a", { href: "#/signup" }, "Create an account"),
        " or ",
        h("a", { href: "#/signin" }, "sign in"),
        " to listen, upload and make playlists.",
      ),
      h("p", {}, h("a", { href: "#/search" }, "Browse the catalog")),
    );
  }
  const { items } = await api.get<{ items: { track: Track; reason: { text: string } }[] }>(
    "/v1/recommendations/for-you?limit=20",
  );
  const reasons = new Map(items.map((i) => [i.track.id, i.reason.text]));
  return h(
    "section",
    {},
    h("h1", {}, "For you"),
    trackList(
      app,
      items.map((i) => i.track),
      (t) => h("span", { class: "reason" }, reasons.get(t.id) ?? ""),
    ),
  );
};

/** Search: suggestions while typing, full results on Enter. */
export const search: View = async (app, _params, query) => {
  const q = query.get("q") ?? "";
  const input = h("input", {
    type: "search",
    value: q,
    placeholder: "Artists, albums, tracks…",
    "aria-label": "Search",
    autocomplete: "off",
  });
  const suggestions = h("ul", { class: "suggestions", role: "listbox" });
  let ticket = 0;
  input.addEventListener("input", async () => {
    const mine = ++ticket;
    const text = input.value.trim();
    if (!text) return suggestions.replaceChildren();
    const res = await api
      .get<{ items: Suggestion[] }>(`/v1/search/suggest?q=${encodeURIComponent(text)}`)
      .catch(() => ({ items: [] }));
    if (mine !== ticket) return;
    suggestions.replaceChildren(
      ...res.items.map((s) =>
        h(
          "li",
          { role: "option" },
          h(
            "a",
            {
              href:
                s.type === "track"
                  ? `#/search?q=${encodeURIComponent(s.text)}`
                  : `#/${s.type}/${s.id}`,
            },
            h("span", { class: "type" }, s.type),
            s.text,
            h("small", {}, s.subtitle),
          ),
        ),
      ),
    );
  });
  const form = h(
    "form",
    {
      class: "search",
      role: "search",
      onsubmit: (e: Event) => {
        e.preventDefault();
        app.go(`#/search?q=${encodeURIComponent(input.value.trim())}`);
      },
    },
    input,
    h("button", { type: "submit" }, "Search"),
  );
  const results = h("div", { class: "results" });
  if (q) {
    const found = await api.get<{ items: Track[] }>(
      `/v1/search?q=${encodeURIComponent(q)}&type=track&limit=50`,
    );
    results.append(h("h2", {}, `Tracks for “${q}”`), trackList(app, found.items));
  }
  queueMicrotask(() => input.focus());
  return h("section", {}, h("h1", {}, "Search"), form, suggestions, results);
};
