import { api, describeError } from "./api";
import { errorLine, h } from "./dom";
import { Player } from "./player/player";
import type { Page, Playlist } from "./types";

export type View = (app: App, params: string[], query: URLSearchParams) => Promise<Node> | Node;
type Route = { pattern: RegExp; view: View; signedIn?: boolean };

/** The shell: navigation, the routed view, the player bar that survives navigation. */
export class App {
  readonly player = new Player();
  readonly #main = h("main", { id: "main", tabIndex: -1 });
  readonly #nav = h("nav", { "aria-label": "Main" });
  readonly #toast = h("div", { class: "toast", role: "status", "aria-live": "polite" });
  #playlists: Playlist[] | null = null;
  #renders = 0;

  constructor(private readonly routes: Route[]) {
    document.body.replaceChildren(
      h("header", {}, h("a", { href: "#/", class: "brand" }, "Edge Music"), this.#nav),
      this.#main,
      this.player.element,
      this.#toast,
    );
    addEventListener("hashchange", () => void this.render());
    api.onSignedOut = () => {
      this.#playlists = null;
      this.go("#/signin");
    };
  }

  go(hash: string): void {
    if (location.hash === hash) void this.render();
    else location.hash = hash;
  }

  async render(): Promise<void> {
    // A slow view finishing after a later navigation must not replace the newer page.
    const ticket = ++this.#renders;
    this.#renderNav();
    const [path = "/", search = ""] = location.hash.replace(/^#/, "").split("?");
    const query = new URLSearchParams(search);
    for (const route of this.routes) {
      const match = route.pattern.exec(path || "/");
      if (!match) continue;
      if (route.signedIn && !api.signedIn) {
        this.go(`#/signin?next=${encodeURIComponent(location.hash)}`);
        return;
      }
      this.#main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
      try {
        const node = await route.view(this, match.slice(1).map(decodeURIComponent), query);
        if (ticket === this.#renders) this.#main.replaceChildren(node);
      } catch (error) {
        if (ticket === this.#renders) this.#main.replaceChildren(errorLine(describeError(error)));
      }
      return;
    }
    this.#main.replaceChildren(errorLine("There is no such page."));
  }

  /** The signed-in user's playlists, fetched once (changes call `playlistsChanged`). */
  async myPlaylists(): Promise<Playlist[]> {
    if (!this.#playlists && api.user) {
      const page = await api.get<Page<Playlist>>(`/v1/users/${api.user.id}/playlists?limit=100`);
      this.#playlists = page.items;
    }
    return this.#playlists ?? [];
  }

  playlistsChanged(): void {
    this.#playlists = null;
  }

  toast(message: string, error = false): void {
    this.#toast.textContent = message;
    this.#toast.classList.toggle("error", error);
    this.#toast.classList.add("show");
    setTimeout(() => this.#toast.classList.remove("show"), 4000);
  }

  #renderNav(): void {
    const link = (href: string, text: string) => h("a", { href }, text);
    const user = api.user;
    const links = user
      ? [
          link("#/library", "Library"),
          link("#/upload", "Upload"),
          link("#/studio", "Studio"),
          link("#/account", user.displayName),
        ]
      : [link("#/signin", "Sign in"), link("#/signup", "Sign up")];
    this.#nav.replaceChildren(link("#/", "Home"), link("#/search", "Search"), ...links);
  }
}
