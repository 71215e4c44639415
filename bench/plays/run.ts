/**
 * `npm run bench:plays`: playback events per second accepted end to end (listeners' batches
 * through the api worker, its grant, playability and concurrency checks, to the PlayCounter
 * and ListenerStreams Durable Objects, in workerd on loopback with local D1 and Durable
 * Object storage), for one hot track and for 1,000 tracks, under `wrangler dev` and under
 * wrangler with the DevTools inspector off, in the same run. Afterwards every counter is
 * flushed and the totals are read back through the stats endpoint: each accepted event must
 * be counted exactly once, and a resent batch must come back as duplicates.
 *
 * The load is what the anti-fraud rules allow: many listeners, each playing one track after
 * another (a person hears one thing at a time), each batch one listener's events, as a player
 * sends them after being offline for a while (up to 50).
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { getPlatformProxy } from "wrangler";
import { ROOT, applyLocalMigrations, ensureDevVars } from "../../scripts/lib/setup.mjs";
import { readFileSync } from "node:fs";
import { parseKeyRing } from "@edge-music/core/key-ring";
import { STREAM_THRESHOLD_MS, shardOf, signPlaybackId } from "@edge-music/core/play-events";
import { hashPassword } from "@edge-music/api/password";
import { signAccessToken } from "@edge-music/api/access-token";
import { startWorker, startWorkerWithoutInspector } from "../lib";

const PORT = 8796;
const BASE = `http://127.0.0.1:${PORT}`;
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 16);
const PLAYBACKS = Number(process.env["BENCH_PLAYBACKS"] ?? 3000);
/** Listeners sharing the playbacks: each plays one after another, never two at once. */
const LISTENERS = Number(process.env["BENCH_LISTENERS"] ?? 600);
const BATCH = 50;
const PROGRESS_MS = 10_000;
/** A listener's playbacks are this far apart: longer than the longest (110 s). */
const SLOT_MS = 130_000;
const PASSWORD = "bench-password-123";

type Playback = {
  id: string;
  userId: string;
  trackId: string;
  events: number;
  grantedAt: number;
  shard: number;
};
type Scenario = { name: string; tracks: string[]; playbacks: Playback[] };

/** A deterministic generator, so runs compare. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const random = rng(42);
/** Every listener's first slot; later ones follow SLOT_MS apart (all in the past). */
const firstSlotAt = Date.now() - 2 * 3600_000;
const listenerIds = Array.from({ length: LISTENERS }, (_, i) => `usr_fan_${i}`);
const slotsUsed = new Map<string, number>();

/** Counters per hot track, as in wrangler.toml; a hot track's listener always uses one. */
const HOT_SHARDS = Number(process.env["BENCH_SHARDS"] ?? 4);

/** The keys `npm start` wrote (or this writes), to sign grants and tokens as the api would. */
ensureDevVars();
const devVars = readFileSync(path.join(ROOT, ".dev.vars"), "utf8");
const devVar = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(devVars)?.[1] ?? "{}";
const keys = parseKeyRing(devVar("PLAYBACK_KEYS"), "PLAYBACK_KEYS");
const kid = [...keys.keys()][0] ?? "p1";
const jwtKeys = parseKeyRing(devVar("JWT_KEYS"), "JWT_KEYS");
const jwtKid = /^JWT_ACTIVE_KID=(.*)$/m.exec(devVars)?.[1] ?? "k1";

async function scenario(
  name: string,
  trackIds: string[],
  prefix: string,
  shards: number,
): Promise<Scenario> {
  const playbacks = await Promise.all(
    Array.from({ length: PLAYBACKS }, async (_, i) => {
      const trackId = trackIds[i % trackIds.length] as string;
      const userId = listenerIds[i % LISTENERS] as string;
      const slot = slotsUsed.get(userId) ?? 0;
      slotsUsed.set(userId, slot + 1);
      const grantedAt = firstSlotAt + slot * SLOT_MS;
      const shard = shardOf(userId, shards);
      const id = await signPlaybackId(
        {
          sub: userId,
          trk: trackId,
          ter: "DE",
          pln: "free",
          shd: shard,
          iat: grantedAt,
          exp: grantedAt + 3 * 3600_000,
          n: `${prefix}-nonce-${i}`,
        },
        kid,
        keys,
      );
      // 2 to 12 events: 10 to 110 s played, so some playbacks stay under 30 s.
      return { id, userId, shard, trackId, events: 2 + Math.floor(random() * 11), grantedAt };
    }),
  );
  return { name, tracks: trackIds, playbacks };
}

const hot = await scenario("one hot track", ["trk_hot"], "hot", HOT_SHARDS);
const manyIds = Array.from({ length: 1000 }, (_, i) => `trk_many_${i}`);
// Twice over the same tracks: first while their counters are created (the first play a track
// ever gets), then again with new playbacks once the counters exist.
const manyCold = await scenario(
  "1,000 tracks, counters created during the run",
  manyIds,
  "cold",
  1,
);
const manyWarm = await scenario("1,000 tracks, counters already there", manyIds, "warm", 1);

/**
 * Fresh local state: accounts with a device session each, catalog with a worldwide stream
 * right, and grants, straight into D1 (the benchmark is the events path).
 */
async function seed(persistTo: string) {
  rmSync(persistTo, { recursive: true, force: true });
  mkdirSync(persistTo, { recursive: true });
  applyLocalMigrations(persistTo);

  const proxy = await getPlatformProxy<{ DB: D1Database }>({
    configPath: path.join(ROOT, "wrangler.toml"),
    persist: { path: path.join(persistTo, "v3") },
  });
  const db = proxy.env.DB;
  const hash = await hashPassword(PASSWORD, 1000);
  const statements: D1PreparedStatement[] = [
    db
      .prepare(
        "INSERT INTO users (id, email, display_name, password_hash, role) VALUES ('usr_admin', 'admin@bench.local', 'Admin', ?, 'admin')",
      )
      .bind(hash),
    db.prepare(
      "INSERT INTO artists (id, name, owner_id) VALUES ('art_bench', 'Bench Artist', 'usr_admin')",
    ),
    db.prepare("INSERT INTO rights_holders (id, name) VALUES ('rh_bench', 'Bench Label')"),
  ];
  for (const [i, id] of listenerIds.entries()) {
    statements.push(
      db
        .prepare(
          "INSERT INTO users (id, email, display_name, password_hash, role) VALUES (?, ?, 'Fan', ?, 'listener')",
        )
        .bind(id, `fan${i}@bench.local`, hash),
      db
        .prepare(
          "INSERT INTO sessions (id, user_id, name, user_agent, expires_at) VALUES (?, ?, 'bench', 'bench', ?)",
        )
        .bind(`ses_${id}`, id, Date.now() + 24 * 3600_000),
    );
  }
  for (const id of ["trk_hot", ...manyIds]) {
    statements.push(
      db
        .prepare(
          "INSERT INTO tracks (id, title, artist_id, owner_id, visibility, status) VALUES (?, ?, 'art_bench', 'usr_admin', 'public', 'ready')",
        )
        .bind(id, id),
      db
        .prepare(
          "INSERT INTO track_rights (id, track_id, territory, right_type, holder_id, share) VALUES (?, ?, 'WW', 'stream', 'rh_bench', 1)",
        )
        .bind(`rt_${id}`, id),
    );
  }
  for (const p of [...hot.playbacks, ...manyCold.playbacks, ...manyWarm.playbacks]) {
    statements.push(
      db
        .prepare(
          "INSERT INTO playbacks (id, user_id, track_id, territory, plan, shard, created_at, expires_at) VALUES (?, ?, ?, 'DE', 'free', ?, ?, ?)",
        )
        .bind(p.id, p.userId, p.trackId, p.shard, p.grantedAt, p.grantedAt + 3 * 3600_000),
    );
  }
  for (let i = 0; i < statements.length; i += 50) await db.batch(statements.slice(i, i + 50));
  await proxy.dispose();
}

async function login(email: string): Promise<string> {
  const res = await fetch(`${BASE}/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** Each listener's access token, signed as the api signs them (logging 600 in costs PBKDF2). */
async function listenerTokens(): Promise<Map<string, string>> {
  return new Map(
    await Promise.all(
      listenerIds.map(
        async (id) =>
          [
            id,
            await signAccessToken(
              { userId: id, sessionId: `ses_${id}`, role: "listener" },
              jwtKeys,
              jwtKid,
              3600,
            ),
          ] as const,
      ),
    ),
  );
}

function eventsOf(p: Playback) {
  return Array.from({ length: p.events }, (_, i) => ({
    eventId: crypto.randomUUID(),
    playbackId: p.id,
    trackId: p.trackId,
    type: i === 0 ? "start" : "progress",
    positionMs: i * PROGRESS_MS,
    playedMs: i === 0 ? 0 : PROGRESS_MS,
    rendition: "aac_128",
    occurredAt: new Date(p.grantedAt + 1000 + i * PROGRESS_MS).toISOString(),
  }));
}

type Batch = { userId: string; events: unknown[] };

/**
 * One listener's events in order, in batches of up to 50 (several of their playbacks, one
 * after another, as a player sends them after being offline).
 */
function batchesOf(playbacks: Playback[]): Batch[] {
  const byListener = new Map<string, Playback[]>();
  for (const p of playbacks) byListener.set(p.userId, [...(byListener.get(p.userId) ?? []), p]);
  const batches: Batch[] = [];
  for (const [userId, mine] of byListener) {
    const events = mine.sort((a, b) => a.grantedAt - b.grantedAt).flatMap(eventsOf);
    for (let i = 0; i < events.length; i += BATCH) {
      batches.push({ userId, events: events.slice(i, i + BATCH) });
    }
  }
  return batches;
}

type Outcome = {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: { code?: string }[];
};

async function send(token: string, events: unknown[]): Promise<Outcome> {
  const res = await fetch(`${BASE}/v1/playback-events`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });
  if (!res.ok) throw new Error(`events: ${res.status} ${await res.text()}`);
  return (await res.json()) as Outcome;
}

async function run(s: Scenario, tokens: Map<string, string>, admin: string, played: Playback[]) {
  const sent = batchesOf(s.playbacks);
  // A listener's batches go out one after another from one client, as a player sends them.
  const listenerIndex = new Map(listenerIds.map((id, i) => [id, i]));
  const perClient = Array.from({ length: CLIENTS }, (_, c) =>
    sent.filter((b) => (listenerIndex.get(b.userId) ?? 0) % CLIENTS === c),
  );
  const events = sent.reduce((n, b) => n + b.events.length, 0);
  const totals = { accepted: 0, duplicates: 0, rejected: 0, codes: new Set<string>() };
  const tokenOf = (b: Batch) => tokens.get(b.userId) ?? "";
  const started = performance.now();
  await Promise.all(
    perClient.map(async (batches) => {
      for (const batch of batches) {
        const outcome = await send(tokenOf(batch), batch.events);
        totals.accepted += outcome.accepted;
        totals.duplicates += outcome.duplicates;
        totals.rejected += outcome.rejected;
        for (const r of outcome.results) if (r.code) totals.codes.add(r.code);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  // Retries: resend one batch in 20; every event must come back a duplicate.
  let resent = 0;
  let duplicates = 0;
  for (let i = 0; i < sent.length; i += 20) {
    const batch = sent[i] as Batch;
    const outcome = await send(tokenOf(batch), batch.events);
    resent += batch.events.length;
    duplicates += outcome.duplicates;
  }

  // What should have been counted on these tracks (this run and any before it on them), and
  // what the counters say after flushing.
  played.push(...s.playbacks);
  const tracks = new Set(s.tracks);
  const mine = played.filter((p) => tracks.has(p.trackId));
  const expectedStreams = mine.filter(
    (p) => (p.events - 1) * PROGRESS_MS >= STREAM_THRESHOLD_MS,
  ).length;
  const expectedSeconds = mine.reduce((n, p) => n + ((p.events - 1) * PROGRESS_MS) / 1000, 0);
  const counted = { streams: 0, seconds: 0 };
  const queue = [...s.tracks];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = queue.pop(); id; id = queue.pop()) {
        const res = await fetch(`${BASE}/v1/tracks/${id}/stats`, {
          headers: { Authorization: `Bearer ${admin}` },
        });
        if (!res.ok) throw new Error(`stats ${id}: ${res.status}`);
        const stats = (await res.json()) as { totals: { streams: number; seconds: number } };
        counted.streams += stats.totals.streams;
        counted.seconds += stats.totals.seconds;
      }
    }),
  );
  return {
    scenario: s.name,
    events,
    batches: sent.length,
    listeners: new Set(sent.map((b) => b.userId)).size,
    seconds,
    perSecond: events / seconds,
    ...totals,
    resent,
    resentDuplicates: duplicates,
    expectedStreams,
    counted,
    expectedSeconds,
    exact:
      totals.accepted === events &&
      duplicates === resent &&
      counted.streams === expectedStreams &&
      counted.seconds === expectedSeconds,
  };
}

/**
 * `wrangler dev` always attaches its DevTools inspector to the runtime with the Network domain
 * on, and wrangler's Node process formats every D1 query and answer it reports into a debug
 * log file: a cost of the dev tool, not of the api (`top` shows wrangler's Node
 * process and its proxy runtime using as much CPU as the api itself). So the same wrangler
 * setup is measured twice in one run: as `wrangler dev` runs it, and through wrangler's
 * `unstable_startWorker` with the inspector off, which is how the api runs without DevTools.
 */
const MODES = [
  { name: "wrangler dev (DevTools inspector attached)", inspector: true },
  { name: "wrangler, inspector off", inspector: false },
] as const;

let ok = true;
const figures: string[] = [];
for (const mode of MODES) {
  const persistTo = path.join(ROOT, `bench/.state/plays-${mode.inspector ? "inspector" : "plain"}`);
  await seed(persistTo);
  const worker = mode.inspector
    ? await startWorker("wrangler.toml", PORT, persistTo, "/healthz")
    : await startWorkerWithoutInspector("wrangler.toml", PORT, persistTo);
  try {
    const tokens = await listenerTokens();
    const admin = await login("admin@bench.local");
    console.log(
      `\nplays benchmark, ${mode.name}: ${LISTENERS} listeners, one listener's events per batch (up to ${BATCH}), ${CLIENTS} concurrent clients, loopback`,
    );
    const played: Playback[] = [];
    for (const s of [hot, manyCold, manyWarm]) {
      const r = await run(s, tokens, admin, played);
      ok &&= r.exact;
      figures.push(
        `${mode.name}, ${r.scenario}: ${Math.round(r.perSecond).toLocaleString()} events/s, ${Math.round(r.batches / r.seconds)} batches/s (${(r.events / r.batches).toFixed(1)} events each)`,
      );
      console.log(
        `\n${r.scenario}: ${r.events.toLocaleString()} events in ${r.batches} batches from ${r.listeners} listeners, ${r.seconds.toFixed(2)} s → ${Math.round(r.perSecond).toLocaleString()} events/s`,
      );
      console.log(
        `  accepted ${r.accepted}, duplicates ${r.duplicates}, rejected ${r.rejected}${r.codes.size ? ` (${[...r.codes].join(", ")})` : ""}`,
      );
      console.log(`  resent ${r.resent} events: ${r.resentDuplicates} answered as duplicates`);
      console.log(
        `  streams counted ${r.counted.streams} / expected ${r.expectedStreams}; seconds ${r.counted.seconds} / expected ${r.expectedSeconds}`,
      );
      console.log(`  every accepted event counted exactly once: ${r.exact ? "yes" : "NO"}`);
    }
  } finally {
    await worker.stop();
  }
}
console.log(`\nsummary:\n${figures.map((f) => `  ${f}`).join("\n")}`);
console.log("target: at least 5,000 events/s with zero lost or double counted");
if (!ok) process.exitCode = 1;
