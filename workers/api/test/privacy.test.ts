import { SELF, env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { counterName } from "@edge-music/core/play-events";
import { UPLOAD_CLEANUP_CRON } from "../src/scheduled";
import { createArtist, createTrack, makeReady, openWorldwide } from "./catalog-fixtures";
import { Player, grantPlayback, sendEvents } from "./play-fixtures";
import {
  accountWithRole,
  call,
  callJson,
  expectProblem,
  freshIp,
  type Account,
  type Json,
  runCron,
} from "./helpers";

const PASSWORD = "correct horse battery";

type World = {
  subject: Account;
  bystander: Account;
  ownTrack: string;
  otherTrack: string;
  playlistId: string;
  bystanderPlaylist: string;
  uploadId: string;
  /** The upload's presigned PUT URL, still valid when the account is erased. */
  putUrl: string;
  playbackId: string;
};

/** A counted stream (31 s) of `trackId` by `who`, left in the counter (not flushed). */
async function stream(who: Account, trackId: string): Promise<string> {
  const { playbackId, grantedAt } = await grantPlayback(who, trackId, { ageMs: 60_000 });
  const player = new Player(playbackId, trackId, grantedAt + 1000);
  const outcome = await sendEvents(who, [
    player.event("start", 0),
    player.event("progress", 31_000),
  ]);
  expect(outcome.accepted).toBe(2);
  return playbackId;
}

async function subscribe(userId: string, subscriptionId: string) {
  await env.DB.prepare(
    "INSERT INTO subscriptions (user_id, plan, status, stripe_customer_id, stripe_subscription_id, updated_at) VALUES (?, 'premium', 'active', ?, ?, ?)",
  )
    .bind(userId, `cus_${subscriptionId}`, subscriptionId, Date.now())
    .run();
}

/** An artist account with a bit of everything, and a listener whose things touch it. */
async function world(): Promise<World> {
  const subject = await accountWithRole("artist");
  const bystander = await accountWithRole("listener");
  const other = await accountWithRole("artist");
  // A second device.
  await callJson("POST", "/v1/auth/login", 200, {
    body: { email: subject.email, password: PASSWORD, deviceName: "Phone" },
    headers: { "CF-Connecting-IP": freshIp() },
  });
  const band = await createArtist(subject, "Erased Band");
  const ownTrack = (await createTrack(subject, band.id, { title: "Mine" })).id;
  const otherTrack = (await createTrack(other, (await createArtist(other, "Stays")).id)).id;
  for (const id of [ownTrack, otherTrack]) {
    await makeReady(id);
    await openWorldwide(id);
  }
  await env.MEDIA.put(`tracks/${ownTrack}/av_${ownTrack}/aac_128/media.mp4`, "audio");
  await env.MEDIA.put(`uploads/${subject.id}/upl_old/source`, "source bytes");
  const upload = await callJson<{ uploadId: string; putUrl: string }>("POST", "/v1/uploads", 201, {
    token: subject.accessToken,
    body: { filename: "new.flac", contentType: "audio/flac", size: 1000 },
  });
  await call("PUT", `/v1/me/likes/track/${otherTrack}`, { token: subject.accessToken });
  const playlist = await callJson<{ id: string }>("POST", "/v1/playlists", 201, {
    token: subject.accessToken,
    body: { title: "Mixtape", visibility: "public" },
  });
  await callJson("POST", `/v1/playlists/${playlist.id}/tracks`, 200, {
    token: subject.accessToken,
    body: { trackIds: [otherTrack, ownTrack] },
  });
  const bystanderPlaylist = await callJson<{ id: string }>("POST", "/v1/playlists", 201, {
    token: bystander.accessToken,
    body: { title: "Keeps" },
  });
  await callJson("POST", `/v1/playlists/${bystanderPlaylist.id}/tracks`, 200, {
    token: bystander.accessToken,
    body: { trackIds: [otherTrack, ownTrack, otherTrack] },
  });
  await call("PUT", `/v1/me/likes/track/${ownTrack}`, { token: bystander.accessToken });
  await call("PUT", `/v1/me/likes/playlist/${playlist.id}`, { token: bystander.accessToken });
  await stream(bystander, ownTrack);
  const playbackId = await stream(subject, otherTrack);
  return {
    subject,
    bystander,
    ownTrack,
    otherTrack,
    playlistId: playlist.id,
    bystanderPlaylist: bystanderPlaylist.id,
    uploadId: upload.uploadId,
    putUrl: upload.putUrl,
    playbackId,
  };
}

const erase = (who: Account, password = PASSWORD) =>
  call("DELETE", "/v1/me", { token: who.accessToken, body: { password } });

/** Every table and column of the database where `needle` appears, as "table.column". */
async function whereFound(needle: string): Promise<string[]> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' AND name NOT LIKE 'search_fts_%' AND name NOT LIKE 'search_trigram_%'",
  ).all<{ name: string }>();
  const found: string[] = [];
  for (const { name } of tables.results) {
    const columns = await env.DB.prepare("SELECT name FROM pragma_table_info(?)")
      .bind(name)
      .all<{ name: string }>();
    for (const column of columns.results) {
      const hit = await env.DB.prepare(
        `SELECT count(*) AS n FROM "${name}" WHERE instr(CAST("${column.name}" AS TEXT), ?) > 0`,
      )
        .bind(needle)
        .first<{ n: number }>();
      if (hit?.n) found.push(`${name}.${column.name}`);
    }
  }
  return found;
}

let w: World;
beforeAll(async () => {
  w = await world();
  await subscribe(w.subject.id, `sub_erase_${w.subject.id}`);
});

describe("export", () => {
  it("contains everything stored about the caller and no secret", async () => {
    const res = await call("GET", "/v1/me/export", { token: w.subject.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Disposition")).toMatch(
      /^attachment; filename="edge-music-export-/,
    );
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const text = await res.text();
    expect(text).not.toContain("pbkdf2");
    expect(text).not.toContain("passwordHash");
    const data = JSON.parse(text) as Record<string, Json[]> & { profile: Json };
    expect(data.profile).toMatchObject({ id: w.subject.id, email: w.subject.email });
    expect(data["sessions"]).toHaveLength(2);
    expect(data["subscription"]?.[0]).toMatchObject({
      stripeSubscriptionId: `sub_erase_${w.subject.id}`,
    });
    expect(data["playlists"]?.map((p) => p["id"])).toEqual([w.playlistId]);
    expect(data["playlists"]?.[0]).not.toHaveProperty("writeToken");
    expect(data["playlistItems"]?.map((i) => i["trackId"])).toEqual([w.otherTrack, w.ownTrack]);
    expect(data["likes"]).toEqual([
      expect.objectContaining({ kind: "track", refId: w.otherTrack }),
    ]);
    // The stream was counted a moment ago and not flushed yet: the export flushes first.
    expect(data["listeningHistory"]).toEqual([
      expect.objectContaining({ trackId: w.otherTrack, playedAt: expect.stringMatching(/Z$/) }),
    ]);
    expect(data["playbackGrants"]?.map((g) => g["id"])).toEqual([w.playbackId]);
    expect(data["uploads"]?.map((u) => u["id"])).toEqual([w.uploadId]);
    expect(data["tracks"]?.map((t) => t["id"])).toEqual([w.ownTrack]);
    expect(data["artists"]?.map((a) => a["name"])).toEqual(["Erased Band"]);
    expect(data["rightsHolders"]).toEqual([]);
  });

  it("needs a signed-in caller", async () => {
    await expectProblem(await call("GET", "/v1/me/export"), 401, "UNAUTHENTICATED");
  });
});

describe("erase", () => {
  it("refuses a wrong password and changes nothing", async () => {
    await expectProblem(await erase(w.subject, "not the password"), 403, "WRONG_PASSWORD");
    await expectProblem(
      await call("DELETE", "/v1/me", { token: w.subject.accessToken, body: {} }),
      400,
    );
    await callJson("GET", "/v1/me", 200, { token: w.subject.accessToken });
  });

  it("changes nothing when Stripe cannot cancel the subscription", async () => {
    const payer = await accountWithRole("listener");
    await subscribe(payer.id, `sub_unreachable_${payer.id}`);
    await expectProblem(await erase(payer), 502, "PAYMENT_PROVIDER_ERROR");
    await callJson("GET", "/v1/me", 200, { token: payer.accessToken });
  });

  it("leaves no personal row or object, keeps royalty totals, and signs out at once", async () => {
    const totals = () =>
      env.DB.prepare(
        "SELECT sum(streams) AS streams, sum(played_ms) AS ms, (SELECT count(*) FROM listening_history) AS history FROM royalty_rollups",
      ).first<{ streams: number; ms: number; history: number }>();
    // Both streams flushed, so the rollups hold them before the erasure.
    await callJson("GET", `/v1/tracks/${w.ownTrack}/stats`, 200, { token: w.subject.accessToken });
    const before = await totals();
    expect(before?.streams).toBeGreaterThanOrEqual(1);
    // The scan below does find the account where it is stored.
    expect(await whereFound(w.subject.id)).toEqual(
      expect.arrayContaining([
        "users.id",
        "sessions.user_id",
        "playlists.owner_id",
        "likes.user_id",
        "listening_history.user_id",
        "playbacks.user_id",
        "uploads.user_id",
        "uploads.object_key",
        "tracks.owner_id",
        "artists.owner_id",
        "subscriptions.user_id",
        "search_docs.owner_id",
      ]),
    );
    // Playback ids carry their claims (the user among them): they are where they must be.
    expect(await whereFound("pb2.")).toEqual(["playbacks.id"]);
    expect((await erase(w.subject)).status).toBe(204);
    expect(await totals()).toEqual(before);

    await expectProblem(await call("GET", "/v1/me", { token: w.subject.accessToken }), 401);
    await expectProblem(
      await call("POST", "/v1/auth/refresh", { body: { refreshToken: w.subject.refreshToken } }),
      401,
    );
    // The upload URL made a moment ago can still write under the account's prefix until it
    // expires, so that prefix alone is kept, to be swept; nothing else names the account.
    expect(await whereFound(w.subject.id)).toEqual(["storage_deletions.prefix"]);
    expect(await whereFound(w.subject.email)).toEqual([]);
    // History rows outlive the account; their ids are hashes, not the playback ids.
    // (The bystander's grant of the erased track went with the track.)
    expect(await whereFound("pb2.")).toEqual([]);
    const historyIds = await env.DB.prepare("SELECT id FROM listening_history").all<{
      id: string;
    }>();
    for (const { id } of historyIds.results) expect(id).toMatch(/^lh_[A-Za-z0-9_-]{43}$/);
    const late = await SELF.fetch(w.putUrl, {
      method: "PUT",
      headers: { "Content-Type": "audio/flac", "Content-Length": "1000" },
      body: new Uint8Array(1000),
    });
    expect(late.status).toBe(200); // as R2 would: the URL is valid, its signature is right
    expect((await env.MEDIA.list({ prefix: `uploads/${w.subject.id}/` })).objects).toHaveLength(1);
    // Once the URL has expired, the next cleanup run empties the prefix for the last time and
    // forgets it.
    await env.DB.prepare("UPDATE storage_deletions SET sweep_until = ? WHERE prefix = ?")
      .bind(Date.now() - 1000, `uploads/${w.subject.id}/`)
      .run();
    await runCron(UPLOAD_CLEANUP_CRON);
    expect(await whereFound(w.subject.id)).toEqual([]);
    const anonymous = await env.DB.prepare(
      "SELECT count(*) AS n FROM listening_history WHERE track_id = ? AND user_id IS NULL",
    )
      .bind(w.otherTrack)
      .first<{ n: number }>();
    expect(anonymous?.n).toBe(1);

    for (const prefix of [`uploads/${w.subject.id}/`, `tracks/${w.ownTrack}/`]) {
      expect((await env.MEDIA.list({ prefix })).objects, prefix).toEqual([]);
    }
    const pending = await env.DB.prepare("SELECT count(*) AS n FROM storage_deletions").first<{
      n: number;
    }>();
    expect(pending?.n).toBe(0);

    // The bystander's playlist lost the erased track and stays dense; their likes of it went.
    const kept = await callJson<{
      itemCount: number;
      revision: number;
      items: { position: number; track: { id: string } }[];
    }>("GET", `/v1/playlists/${w.bystanderPlaylist}`, 200, { token: w.bystander.accessToken });
    expect(kept.itemCount).toBe(2);
    expect(kept.revision).toBeGreaterThan(2);
    expect(kept.items.map((i) => [i.position, i.track.id])).toEqual([
      [0, w.otherTrack],
      [1, w.otherTrack],
    ]);
    const likes = await callJson<{ total: number }>("GET", "/v1/me/library", 200, {
      token: w.bystander.accessToken,
    });
    expect(likes).toMatchObject({ likedTracks: { total: 0 }, likedPlaylists: { total: 0 } });

    const stripe = (await (await fetch(`${env.STRIPE_API_BASE}/__recorded`)).json()) as {
      method: string;
      path: string;
      headers: Record<string, string>;
    }[];
    expect(stripe).toContainEqual(
      expect.objectContaining({
        method: "DELETE",
        path: `/v1/customers/cus_sub_erase_${w.subject.id}`,
        headers: expect.objectContaining({ authorization: "Bearer sk_test_recorded" }),
      }),
    );

    // The counter kept the stream's totals but nothing about the erased listener's playback.
    const counter = env.PLAY_COUNTER.get(env.PLAY_COUNTER.idFromName(counterName(w.otherTrack, 0)));
    await runInDurableObject(counter, (_, state) => {
      const sql = state.storage.sql;
      expect(
        sql.exec("SELECT count(*) AS n FROM sessions WHERE playback_id = ?", w.playbackId).one().n,
      ).toBe(0);
      expect(sql.exec("SELECT count(*) AS n FROM pending_streams").one().n).toBe(0);
      expect(sql.exec("SELECT sum(streams) AS n FROM totals").one().n).toBe(1);
      expect(
        sql.exec("SELECT count(*) AS n FROM listener_days WHERE user_id = ?", w.subject.id).one().n,
      ).toBe(0);
    });
    // The account's own playback-time object keeps nothing at all.
    const streams = env.LISTENER_STREAMS.get(env.LISTENER_STREAMS.idFromName(w.subject.id));
    await runInDurableObject(streams, (_, state) => {
      expect(
        state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").one()
          .n,
      ).toBe(0);
    });
  });
});

describe("storage of erased accounts", () => {
  it("is emptied by the cleanup cron when the erasing request could not finish", async () => {
    await env.MEDIA.put("uploads/usr_gone/upl_1/source", "left behind");
    await env.MEDIA.put("uploads/usr_gone/upl_2/source", "left behind");
    await env.MEDIA.put("uploads/usr_kept/upl_3/source", "still wanted");
    await env.DB.prepare("INSERT INTO storage_deletions (prefix, requested_at) VALUES (?, ?)")
      .bind("uploads/usr_gone/", Date.now())
      .run();
    await runCron(UPLOAD_CLEANUP_CRON);
    expect((await env.MEDIA.list({ prefix: "uploads/usr_gone/" })).objects).toEqual([]);
    expect((await env.MEDIA.list({ prefix: "uploads/usr_kept/" })).objects).toHaveLength(1);
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM storage_deletions WHERE prefix = 'uploads/usr_gone/'",
    ).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});
