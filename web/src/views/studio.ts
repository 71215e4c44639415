import { api } from "../api";
import { h } from "../dom";
import type { View } from "../app";
import type {
  ExcludedStreams as Excluded,
  RoyaltyReport as Report,
  Track,
  TrackStats as Stats,
} from "../types";

/** Excluded streams in words ("1 own play, 2 past the daily cap"), or "" when none. */
function excludedText(e: Excluded | undefined): string {
  if (!e) return "";
  return [
    e.SELF_PLAY ? `${e.SELF_PLAY} own ${e.SELF_PLAY === 1 ? "play" : "plays"}` : "",
    e.REPEAT_CAP ? `${e.REPEAT_CAP} past the daily repeat cap` : "",
  ]
    .filter(Boolean)
    .join(", ");
}

/** Streams per day as bars (SVG, no chart library). */
function chart(days: Stats["days"]): SVGElement {
  const perDay = new Map<string, number>();
  for (const d of days) perDay.set(d.day, (perDay.get(d.day) ?? 0) + d.streams);
  const entries = [...perDay].sort();
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  // One 12-unit column per day of a 28-day window, so a single day stays a thin bar.
  svg.setAttribute("viewBox", `0 0 ${Math.max(28, entries.length) * 12} 60`);
  svg.setAttribute("preserveAspectRatio", "xMinYMid meet");
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute(
    "aria-label",
    entries.map(([d, n]) => `${d}: ${n}`).join(", ") || "No streams yet",
  );
  entries.forEach(([day, n], i) => {
    const bar = document.createElementNS(ns, "rect");
    const height = (n / max) * 55;
    bar.setAttribute("x", String(i * 12 + 1));
    bar.setAttribute("y", String(58 - height));
    bar.setAttribute("width", "10");
    bar.setAttribute("height", String(height));
    const title = document.createElementNS(ns, "title");
    title.textContent = `${day}: ${n} streams`;
    bar.append(title);
    svg.append(bar);
  });
  return svg;
}

/** For artists: each own track's streams over time, and the royalty reports they may read. */
export const studio: View = async () => {
  const lib = await api.get<{ uploads: { items: Track[] } }>("/v1/me/library?limit=50");
  const tracks = lib.uploads.items.filter((t) => t.status === "ready");
  const stats = await Promise.all(
    tracks.map((t) => api.get<Stats>(`/v1/tracks/${t.id}/stats`).catch(() => null)),
  );
  const holders = new Set<string>();
  await Promise.all(
    tracks.map(async (t) => {
      const { rights } = await api
        .get<{ rights: { holderId: string }[] }>(`/v1/tracks/${t.id}/rights`)
        .catch(() => ({ rights: [] }));
      for (const r of rights) holders.add(r.holderId);
    }),
  );
  const reports = (
    await Promise.all(
      [...holders].map((id) =>
        api.get<Report>(`/v1/royalties/report?holder=${encodeURIComponent(id)}`).catch(() => null),
      ),
    )
  ).filter((r): r is Report => r !== null);
  return h(
    "section",
    { class: "studio" },
    h("h1", {}, "Studio"),
    h("h2", {}, "Streams, last 28 days"),
    tracks.length
      ? h(
          "ul",
          { class: "stats" },
          tracks.map((t, i) =>
            h(
              "li",
              { dataset: { trackId: t.id } },
              h("strong", {}, t.title),
              h(
                "span",
                {
                  class: "total",
                  dataset: {
                    streams: String(stats[i]?.totals.streams ?? 0),
                    excluded: String(
                      (stats[i]?.totals.excluded.SELF_PLAY ?? 0) +
                        (stats[i]?.totals.excluded.REPEAT_CAP ?? 0),
                    ),
                  },
                },
                ` ${stats[i]?.totals.streams ?? 0} streams`,
              ),
              excludedText(stats[i]?.totals.excluded)
                ? h(
                    "span",
                    { class: "excluded" },
                    ` (not paid: ${excludedText(stats[i]?.totals.excluded)})`,
                  )
                : null,
              stats[i]?.totals.streams ? chart(stats[i].days) : null,
            ),
          ),
        )
      : h("p", { class: "empty" }, "Upload a track to see its streams here."),
    h("h2", {}, "Royalties"),
    reports.length
      ? reports.map((r) =>
          h(
            "div",
            { class: "report" },
            h("h3", {}, r.holder.name),
            r.rows.length === 0
              ? h("p", { class: "empty" }, "No streams in the last 28 days.")
              : h(
                  "table",
                  {},
                  h(
                    "thead",
                    {},
                    h(
                      "tr",
                      {},
                      h("th", {}, "Track"),
                      h("th", {}, "Territory"),
                      h("th", {}, "Streams"),
                      h("th", {}, "Not paid"),
                      h("th", {}, "Share"),
                      h("th", {}, `Amount (${r.currency})`),
                    ),
                  ),
                  h(
                    "tbody",
                    {},
                    r.rows.map((row) =>
                      h(
                        "tr",
                        {},
                        h("td", {}, row.title),
                        h("td", {}, row.territory),
                        h("td", {}, row.streams),
                        h("td", { class: "excluded" }, excludedText(row.excluded) || "–"),
                        h("td", {}, `${Math.round(row.share * 100)} %`),
                        h("td", {}, row.amount.toFixed(4)),
                      ),
                    ),
                  ),
                ),
            h(
              "p",
              {},
              `Total: ${r.totals.streams} streams, ${r.totals.amount.toFixed(4)} ${r.currency}` +
                (excludedText(r.totals.excluded)
                  ? `; not paid: ${excludedText(r.totals.excluded)}`
                  : ""),
            ),
          ),
        )
      : h("p", { class: "empty" }, "No royalty reports for your account yet."),
  );
};
