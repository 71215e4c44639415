import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ENDED_SESSION_RETENTION_MS } from "../src/scheduled";
import { createArtist, createTrack } from "./catalog-fixtures";
import { accountWithRole, register, runCron } from "./helpers";
import { PLAYBACK_STATE_RETENTION_MS } from "@edge-music/core/play-events";

describe("daily cron", () => {
  it("deletes sessions that ended long ago with their refresh tokens, and keeps live ones", async () => {
    const old = await register();
    const live = await register();
    const longAgo = Date.now() - ENDED_SESSION_RETENTION_MS - 1000;
    await env.DB.prepare("UPDATE sessions SET revoked_at = ? WHERE user_id = ?")
      .bind(longAgo, old.id)
      .run();
    await runCron("17 3 * * *");
    const count = (sql: string, id: string) =>
      env.DB.prepare(sql)
        .bind(id)
        .first<{ n: number }>()
        .then((r) => r?.n);
    expect(await count("SELECT count(*) AS n FROM sessions WHERE user_id = ?", old.id)).toBe(0);
    expect(
      await count(
        "SELECT count(*) AS n FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = ?",
        old.id,
      ),
    ).toBe(0);
    const orphans = await env.DB.prepare(
      "SELECT count(*) AS n FROM refresh_tokens WHERE session_id NOT IN (SELECT id FROM sessions)",
    ).first<{ n: number }>();
    expect(orphans?.n).toBe(0);
    expect(await count("SELECT count(*) AS n FROM sessions WHERE user_id = ?", live.id)).toBe(1);
  });
});

describe("plays housekeeping", () => {
  it("sets track popularity from the last 28 days of streams and drops grants past use", async () => {
    const artist = await accountWithRole("artist");
    const artistId = (await createArtist(artist, "Popular Band")).id;
    const trackId = (
      await createTrack(artist, artistId, { title: "Popular", visibility: "public" })
    ).id;
    const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
    for (const [ago, shard, streams] of [
      [0, 0, 5],
      [2, 1, 2],
      [40, 0, 100],
    ] as const) {
      await env.DB.prepare(
        `INSERT INTO royalty_rollups (track_id, day, territory, plan, rendition, shard, streams, played_ms, updated_at)
         VALUES (?, ?, 'DE', 'free', 'aac_128', ?, ?, 0, ?)`,
      )
        .bind(trackId, day(ago), shard, streams, Date.now())
        .run();
    }
    const grant = (id: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO playbacks (id, user_id, track_id, territory, plan, created_at, expires_at) VALUES (?, ?, ?, 'DE', 'free', 0, ?)",
      )
        .bind(id, artist.id, trackId, expiresAt)
        .run();
    // Kept while a counter may still hold something of its playbacks (erasure finds them).
    await grant("pb_spent", Date.now() - PLAYBACK_STATE_RETENTION_MS - 60_000);
    await grant("pb_recent", Date.now() - PLAYBACK_STATE_RETENTION_MS + 3_600_000);
    await grant("pb_live", Date.now() + 3_600_000);

    await runCron("17 3 * * *");

    const track = await env.DB.prepare("SELECT popularity FROM tracks WHERE id = ?")
      .bind(trackId)
      .first<{ popularity: number }>();
    expect(track?.popularity).toBe(7);
    const doc = await env.DB.prepare("SELECT popularity FROM search_docs WHERE ref_id = ?")
      .bind(trackId)
      .first<{ popularity: number }>();
    expect(doc?.popularity).toBe(7);
    const grants = await env.DB.prepare("SELECT id FROM playbacks WHERE track_id = ?")
      .bind(trackId)
      .all<{ id: string }>();
    expect(grants.results.map((g) => g.id).sort()).toEqual(["pb_live", "pb_recent"]);
  });
});
