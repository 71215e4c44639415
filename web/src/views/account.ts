import { api, describeError } from "../api";
import { h } from "../dom";
import type { View } from "../app";
import type { Page } from "../types";
import type { Session, Subscription } from "../types";

/** The account: plan, device sessions with revoke, export, sign out, erase. */
export const account: View = async (app) => {
  const [sessions, sub] = await Promise.all([
    api.get<Page<Session>>("/v1/me/sessions?limit=100"),
    api.get<Subscription>("/v1/me/subscription").catch(() => null),
  ]);
  const user = api.user;
  const list = h(
    "ul",
    { class: "sessions" },
    sessions.items.map((s) =>
      h(
        "li",
        { dataset: { sessionId: s.id } },
        h("strong", {}, s.name),
        s.current ? " (this device)" : "",
        h("small", {}, ` last used ${new Date(s.lastUsedAt).toLocaleString()}`),
        h(
          "button",
          {
            onclick: async () => {
              try {
                await api.request("DELETE", `/v1/me/sessions/${s.id}`);
                if (s.current) await api.signOut();
                else await app.render();
              } catch (e) {
                app.toast(describeError(e), true);
              }
            },
          },
          "Sign out",
        ),
      ),
    ),
  );
  const password = h("input", {
    type: "password",
    autocomplete: "current-password",
    "aria-label": "Password to confirm",
  });
  return h(
    "section",
    { class: "account" },
    h("h1", {}, user?.displayName ?? "Account"),
    h(
      "p",
      {},
      user?.email ?? "",
      " · plan: ",
      h("strong", {}, sub?.plan ?? user?.plan ?? "free"),
      user?.plan === "free" ? " (AAC up to 128k)" : "",
    ),
    h("h2", {}, "Devices"),
    list,
    h(
      "button",
      {
        onclick: async () => {
          await api.signOut();
          app.go("#/signin");
        },
      },
      "Sign out",
    ),
    h("h2", {}, "Your data"),
    h(
      "button",
      {
        onclick: async () => {
          const res = await fetch("/v1/me/export", {
            headers: { Authorization: `Bearer ${api.accessToken ?? ""}` },
          });
          if (!res.ok) return app.toast("The export failed; try again in a minute.", true);
          const url = URL.createObjectURL(await res.blob());
          h("a", { href: url, download: "edge-music-export.json" }).click();
          URL.revokeObjectURL(url);
        },
      },
      "Download everything we store about you",
    ),
    h(
      "details",
      {},
      h("summary", {}, "Delete my account"),
      h(
        "p",
        {},
        "This deletes your account, playlists, likes and uploads for good. Your plays stay in royalty totals without your name.",
      ),
      password,
      h(
        "button",
        {
          class: "danger",
          onclick: async () => {
            try {
              await api.request("DELETE", "/v1/me", { password: password.value });
              await api.signOut();
              app.go("#/");
            } catch (e) {
              app.toast(describeError(e), true);
            }
          },
        },
        "Delete my account",
      ),
    ),
  );
};
