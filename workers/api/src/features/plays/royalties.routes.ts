import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../lib/router";
import { DomainError } from "@edge-music/core/api-errors";
import { requireViewer } from "../../middleware/auth";
import { dayRange, type ReportRow } from "./royalties";
import { BEARER, IdParamSchema, TrackSchema, json, problems } from "../../http/schemas";

const Day = z.iso.date().openapi({ example: "2026-11-01" });
/** Streams counted but bearing no royalty, by reason. */
const ExcludedSchema = z
  .object({
    SELF_PLAY: z.number().int().openapi({
      description: "Played by the account that owns the track or manages a holder of its rights",
    }),
    REPEAT_CAP: z.number().int().openapi({
      description: "Past the daily cap of royalty-bearing streams of one track per listener",
    }),
  })
  .openapi("ExcludedStreams");
const RangeQuery = z.object({ from: Day.optional(), to: Day.optional() });
/** Longest period one stats or report request may cover. */
const MAX_RANGE_DAYS = 366;

const stats = createRoute({
  method: "get",
  path: "/{id}/stats",
  tags: ["royalties"],
  summary: "A track's streams and seconds by day and territory (its artist's account, admins)",
  description:
    "Defaults to the last 28 days. Days are UTC. `streams` and `seconds` bear royalties; `totals.excluded` counts the streams that do not, by reason.",
  security: BEARER,
  request: { params: IdParamSchema, query: RangeQuery },
  responses: {
    200: json(
      z
        .object({
          trackId: z.string(),
          from: z.string(),
          to: z.string(),
          totals: z.object({
            streams: z.number().int(),
            seconds: z.number().int(),
            excluded: ExcludedSchema,
          }),
          days: z.array(
            z.object({
              day: z.string(),
              territory: z.string(),
              streams: z.number().int(),
              seconds: z.number().int(),
            }),
          ),
        })
        .openapi("TrackStats"),
      "Stats",
    ),
    ...problems(400, 401, 404),
  },
});

const topTracks = createRoute({
  method: "get",
  path: "/{id}/top-tracks",
  tags: ["catalog"],
  summary: "An artist's most streamed tracks over the last 28 days",
  request: {
    params: IdParamSchema,
    query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) }),
  },
  responses: {
    200: json(
      z.object({
        windowDays: z.number().int(),
        items: z.array(TrackSchema.extend({ streams: z.number().int() })),
      }),
      "Tracks",
    ),
    ...problems(400, 404),
  },
});

const report = createRoute({
  method: "get",
  path: "/report",
  tags: ["royalties"],
  summary:
    "A rights holder's royalties by track and territory (JSON, or CSV with Accept: text/csv)",
  description:
    "For the holder's own account and admins. Figures come from the counters' last flush (a few seconds behind). `streams` bear royalties; `excluded` counts, beside them, the streams that were counted but bear none, by reason.",
  security: BEARER,
  request: { query: RangeQuery.extend({ holder: z.string().min(1).max(64) }) },
  responses: {
    200: {
      description: "The report",
      content: {
        "application/json": {
          schema: z
            .object({
              holder: z.object({ id: z.string(), name: z.string() }),
              from: z.string(),
              to: z.string(),
              currency: z.string(),
              ratePerStream: z.number(),
              rows: z.array(
                z.object({
                  trackId: z.string(),
                  title: z.string(),
                  isrc: z.string().nullable(),
                  territory: z.string(),
                  streams: z.number().int(),
                  seconds: z.number().int(),
                  share: z.number(),
                  amount: z.number(),
                  excluded: ExcludedSchema,
                }),
              ),
              totals: z.object({
                streams: z.number(),
                seconds: z.number(),
                amount: z.number(),
                excluded: ExcludedSchema,
              }),
            })
            .openapi("RoyaltyReport"),
        },
        "text/csv": { schema: z.string() },
      },
    },
    ...problems(400, 401, 404),
  },
});

/** Checks a requested period: from before to, and not longer than a year. */
function checkedRange(query: { from?: string | undefined; to?: string | undefined }) {
  const range = dayRange(query.from, query.to, 28);
  const days = (Date.parse(range.to) - Date.parse(range.from)) / 86_400_000 + 1;
  if (days < 1 || days > MAX_RANGE_DAYS) {
    throw new DomainError(
      "INVALID_RANGE",
      `from must not be after to, and a period covers at most ${MAX_RANGE_DAYS} days.`,
    );
  }
  return range;
}

export const trackStatsRoutes = createRouter().openapi(stats, async (c) => {
  const viewer = requireViewer(c.get("viewer"));
  const result = await c
    .get("services")
    .royalties.trackStats(viewer, c.req.valid("param").id, checkedRange(c.req.valid("query")));
  return c.json(result, 200);
});

export const topTrackRoutes = createRouter().openapi(topTracks, async (c) => {
  const result = await c
    .get("services")
    .royalties.topTracks(c.get("viewer"), c.req.valid("param").id, c.req.valid("query").limit);
  return c.json(result, 200);
});

export const royaltyRoutes = createRouter().openapi(report, async (c) => {
  const viewer = requireViewer(c.get("viewer"));
  const query = c.req.valid("query");
  const result = await c
    .get("services")
    .royalties.report(viewer, query.holder, checkedRange(query));
  if (c.req.header("Accept")?.includes("text/csv")) {
    return c.body(toCsv(result.rows, result.currency), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="royalties-${result.holder.id}-${result.from}-${result.to}.csv"`,
    });
  }
  return c.json(result, 200);
});

const CSV_COLUMNS = [
  "track_id",
  "title",
  "isrc",
  "territory",
  "streams",
  "seconds",
  "share",
  "amount",
  "currency",
  "excluded_self_play",
  "excluded_repeat_cap",
];

function toCsv(rows: ReportRow[], currency: string): string {
  const cell = (v: string | number | null) => {
    const text = v === null ? "" : String(v);
    // Quote what needs it, and defuse spreadsheet formulas in free text (titles).
    const safe = /^[=+\-@\t\r]/.test(text) && typeof v === "string" ? `'${text}` : text;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = rows.map((r) =>
    [
      r.trackId,
      r.title,
      r.isrc,
      r.territory,
      r.streams,
      r.seconds,
      r.share,
      r.amount,
      currency,
      r.excluded.SELF_PLAY,
      r.excluded.REPEAT_CAP,
    ]
      .map(cell)
      .join(","),
  );
  return [CSV_COLUMNS.join(","), ...lines].join("\r\n") + "\r\n";
}
