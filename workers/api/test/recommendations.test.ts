import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addHolder,
  addRight,
  createArtist,
  createTrack,
  makeReady,
  openWorldwide,
} from "./catalog-fixtures";
import { accountWithRole, call, callJson, expectProblem, type Account, runCron } from "./helpers";

type Item = { track: { id: string; title: string }; reason: Record<string, unknown> };
type Items = { items: Item[] };

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

let fan: Account;
let artist: Account;
const t: Record<string, string> = {};

/** A counted stream in the listening history, as a counter flush writes it. */
async function played(userId: string, trackId: string, agoMs: number) {
  await env.DB.prepare(
    "INSERT INTO listening_history (id, user_id, track_id, played_at, territory, plan, rendition) VALUES (?, ?, ?, ?, 'DE', 'free', 'aac_128')",
  )
    .bind(crypto.randomUUID(), userId, trackId, Date.now() - agoMs)
    .run();
}

async function streams(trackId: string, territory: string, n: number) {
  await env.DB.prepare(
    "INSERT INTO royalty_rollups (track_id, day, territory, plan, rendition, shard, streams, played_ms, updated_at) VALUES (?, ?, ?, 'free', 'aac_128', 0, ?, ?, ?)",
  )
    .bind(trackId, new Date().toISOString().slice(0, 10), territory, n, n * 60_000, Date.now())
    .run();
}

async function runDailyCron() {
  await runCron("17 3 * * *");
}

const forYou = (who: Account, country: string) =>
  callJson<Items>("GET", "/v1/recommendations/for-you", 200, {
    token: who.accessToken,
    headers: { "X-Dev-Country": country },
  });

const summary = (items: Item[]) =>
  items.map((i) => [i.track.id, i.reason["kind"], i.reason["trackId"]]);

/**
 * The co-listening graph (other listeners, two days ago):
 *   l1: A B C E F G   l2: A B E F G   l3: A C E F   l4: B D
 * E is licensed in FR only; F is private; D has one listener.
 */
beforeAll(async () => {
  fan = await accountWithRole("listener");
  artist = await accountWithRole("artist");
  const artistId = (await createArtist(artist, "Reco Band")).id;
  for (const name of ["A", "B", "C", "D", "E", "F", "G"]) {
    const id = (await createTrack(artist, artistId, { title: `Song ${name}` })).id;
    await makeReady(id);
    t[name] = id;
  }
  for (const name of ["A", "B", "C", "D", "G"]) await openWorldwide(t[name] ?? "");
  await addHolder("rh_fr");
  await addRight(t["E"] ?? "", "FR", "rh_fr", 1);
  await env.DB.prepare("UPDATE tracks SET visibility = 'private' WHERE id = ?").bind(t["F"]).run();
  const graph = ["A B C E F G", "A B E F G", "A C E F", "B D"];
  for (const line of graph) {
    const listener = await accountWithRole("listener");
    for (const name of line.split(" ")) await played(listener.id, t[name] ?? "", 2 * DAY_MS);
  }
  await runDailyCron();
});

describe("track neighbours", () => {
  it("are the co-listened tracks with at least two listeners in common, best first", async () => {
    const rows = await env.DB.prepare(
      "SELECT neighbor_id, co_listeners, score FROM track_neighbors WHERE track_id = ? ORDER BY score DESC, neighbor_id",
    )
      .bind(t["A"])
      .all<{ neighbor_id: string; co_listeners: number; score: number }>();
    // |A| = 3, |E| = 3, |G| = 2, |C| = 2, |B| = 3: score = co² / (|A| |X|).
    const expected = [
      [t["E"], 3, 1],
      ...[
        [t["C"], 2, 4 / 6],
        [t["G"], 2, 4 / 6],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      [t["B"], 2, 4 / 9],
    ];
    expect(rows.results.map((r) => [r.neighbor_id, r.co_listeners, r.score])).toEqual(
      expected.map(([id, co, score]) => [id, co, expect.closeTo(Number(score), 9)]),
    );
    // Private F never enters; D (one listener) and B-C (one in common) make no pair.
    const pairs = await env.DB.prepare(
      "SELECT count(*) AS n FROM track_neighbors WHERE ? IN (track_id, neighbor_id) OR ? IN (track_id, neighbor_id) OR (track_id = ? AND neighbor_id = ?)",
    )
      .bind(t["F"], t["D"], t["B"], t["C"])
      .first<{ n: number }>();
    expect(pairs?.n).toBe(0);
  });

  it("leave no listener data behind, and follow the history when recomputed", async () => {
    for (const table of ["recommendation_signal", "track_listeners"]) {
      const left = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{
        n: number;
      }>();
      expect(left?.n, table).toBe(0);
    }
    const neighboursOfG = async () =>
      (
        await env.DB.prepare(
          "SELECT count(*) AS n FROM track_neighbors WHERE ? IN (track_id, neighbor_id)",
        )
          .bind(t["G"])
          .first<{ n: number }>()
      )?.n;
    expect(await neighboursOfG()).toBeGreaterThan(0);
    // Anonymised history (an erased account) no longer links G to anything.
    const listeners = await env.DB.prepare(
      "SELECT id, user_id FROM listening_history WHERE track_id = ?",
    )
      .bind(t["G"])
      .all<{ id: string; user_id: string }>();
    await env.DB.prepare("UPDATE listening_history SET user_id = NULL WHERE track_id = ?")
      .bind(t["G"])
      .run();
    await runDailyCron();
    expect(await neighboursOfG()).toBe(0);
    for (const r of listeners.results) {
      await env.DB.prepare("UPDATE listening_history SET user_id = ? WHERE id = ?")
        .bind(r.user_id, r.id)
        .run();
    }
    await runDailyCron();
    expect(await neighboursOfG()).toBeGreaterThan(0);
  });
});

describe("for you", () => {
  it("recommends the neighbours of recent plays with the play that led there", async () => {
    await played(fan.id, t["A"] ?? "", 3 * DAY_MS);
    await played(fan.id, t["G"] ?? "", HOUR_MS);
    const { items } = await forYou(fan, "DE");
    // B: A 4/9 + G 4/6 (G contributes most); C: from A only. E is not licensed in DE;
    // G was played in the last hour; A and G are what the fan knows; D: more from the artist.
    // Turns alternate: co-listening, the artist, co-listening, genres (none here); a track
    // picked twice keeps its first place and the co-listening reason.
    const byArtist = [t["B"], t["C"], t["D"]].sort();
    const order = [...new Set([t["B"], byArtist[0], t["C"], byArtist[1], byArtist[2]])];
    const reasons: Record<string, [string, string | undefined]> = {
      [t["B"] ?? ""]: ["played", t["G"]],
      [t["C"] ?? ""]: ["played", t["A"]],
      [t["D"] ?? ""]: ["artist", undefined],
    };
    expect(summary(items)).toEqual(order.map((id) => [id, ...(reasons[id ?? ""] ?? [])]));
    const text = (id: string | undefined) => items.find((i) => i.track.id === id)?.reason["text"];
    expect(text(t["B"])).toBe("Because you played Song G");
    expect(text(t["D"])).toBe("More from Reco Band");
    const inFrance = await forYou(fan, "FR");
    expect(inFrance.items[0]?.track.id).toBe(t["E"]);
    expect(inFrance.items.map((i) => i.track.id)).not.toContain(t["G"]);
  });

  it("follows likes as well as plays", async () => {
    const liker = await accountWithRole("listener");
    expect(
      (await call("PUT", `/v1/me/likes/track/${t["C"]}`, { token: liker.accessToken })).status,
    ).toBe(204);
    const { items } = await forYou(liker, "DE");
    expect(items[0]).toMatchObject({
      track: { id: t["A"] },
      reason: { kind: "liked", trackId: t["C"], text: "Because you liked Song C" },
    });
  });

  it("falls back to the most streamed tracks in the listener's territory", async () => {
    await streams(t["D"] ?? "", "DE", 50);
    await streams(t["C"] ?? "", "FR", 100);
    await streams(t["E"] ?? "", "FR", 70);
    const newcomer = await accountWithRole("listener");
    const de = await forYou(newcomer, "DE");
    expect(de.items[0]).toMatchObject({
      track: { id: t["D"] },
      reason: { kind: "popular", territory: "DE", text: "Popular in DE" },
    });
    expect(de.items.map((i) => i.track.id)).not.toContain(t["E"]);
    expect(de.items.map((i) => i.track.id)).not.toContain(t["F"]);
    const fr = await forYou(newcomer, "FR");
    expect(fr.items.slice(0, 2).map((i) => i.track.id)).toEqual([t["C"], t["E"]]);
  });

  it("needs a signed-in listener", async () => {
    await expectProblem(await call("GET", "/v1/recommendations/for-you"), 401, "UNAUTHENTICATED");
  });
});

describe("similar tracks", () => {
  it("lists playable neighbours first, then more from the artist", async () => {
    const { items } = await callJson<Items>("GET", `/v1/tracks/${t["A"]}/similar?limit=5`, 200, {
      headers: { "X-Dev-Country": "DE" },
    });
    const ties = [t["C"], t["G"]].sort();
    expect(summary(items)).toEqual([
      [ties[0], "co_listened", t["A"]],
      [ties[1], "co_listened", t["A"]],
      [t["B"], "co_listened", t["A"]],
      [t["D"], "artist", undefined],
    ]);
    expect(items[0]?.reason["text"]).toBe("Listeners of Song A also played this");
  });

  it("is 404 for a track the caller may not see", async () => {
    await expectProblem(await call("GET", `/v1/tracks/${t["F"]}/similar`), 404, "NOT_FOUND");
    const owner = await callJson<Items>("GET", `/v1/tracks/${t["F"]}/similar`, 200, {
      token: artist.accessToken,
      headers: { "X-Dev-Country": "DE" },
    });
    expect(owner.items.map((i) => i.track.id)).not.toContain(t["F"]);
  });
});
