/**
 * `npm run bench:plays`: playback events per second accepted end to end (batches of 50 through
 * the api worker to the PlayCounter Durable Objects, in workerd on loopback with local D1 and
 * Durable Object storage), for one hot track and for 1,000 tracks, under `wrangler dev` and
 * under wrangler with the DevTools inspector off, in the same run. Afterwards every counter is
 * flushed and the totals are read back through the stats endpoint: each accepted event must
 * be counted exactly once, and a resent batch must come back as duplicates.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { getPlatformProxy } from "wrangler";
import { ROOT, applyLocalMigrations, ensureDevVars } from "../../scripts/lib/setup.mjs";
import { readFileSync } from "node:fs";
import { parseKeyRing } from "@edge-music/core/key-ring";
import { STREAM_THRESHOLD_MS, shardOf, signPlaybackId } from "@edge-music/core/play-events";
import { hashPassword } from "../../workers/api/src/lib/password";
import { startWorker, startWorkerWithoutInspector } from "../lib";

const PORT = 8796;
const BASE = `http://127.0.0.1:${PORT}`;
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 16);
const PLAYBACKS = Number(process.env["BENCH_PLAYBACKS"] ?? 3000);
const BATCH = 50;
/** Events of one playback per batch: a batch carries several listeners' devices' worth. */
const EVENTS_PER_PLAYBACK_PER_BATCH = 10;
const PROGRESS_MS = 10_000;
const PASSWORD = "bench-password-123";

type Playback = { id: string; trackId: string; events: number; grantedAt: number; shard: number };
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
const grantedAt = Date.now() - 2 * 3600_000;

/** Counters per hot track, as in wrangler.toml; a grant for a hot track picks one of them. */
const HOT_SHARDS = Number(process.env["BENCH_SHARDS"] ?? 4);

/** The playback key `npm start` wrote (or this writes), to sign grants as the api would. */
ensureDevVars();
const devVars = readFileSync(path.join(ROOT, ".dev.vars"), "utf8");
const keys = parseKeyRing(/^PLAYBACK_KEYS=(.*)$/m.exec(devVars)?.[1] ?? "{}", "PLAYBACK_KEYS");
const kid = [...keys.keys()][0] ?? "p1";

async function scenario(
  name: string,
  trackIds: string[],
  prefix: string,
  shards: number,
): Promise<Scenario> {
  const playbacks = await Promise.all(
    Array.from({ length: PLAYBACKS }, async (_, i) => {
      const trackId = trackIds[i % trackIds.length] as string;
      const nonce = `${prefix}-nonce-${i}`;
      const shard = shardOf(nonce, shards);
      const id = await signPlaybackId(
        {
          sub: "usr_fan",
          trk: trackId,
          ter: "DE",
          pln: "free",
          shd: shard,
          iat: grantedAt,
          n: nonce,
        },
        kid,
        keys,
      );
      // 2 to 12 events: 10 to 110 s played, so some playbacks stay under 30 s.
      return { id, shard, trackId, events: 2 + Math.floor(random() * 11), grantedAt };
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

/** Fresh local state: accounts, catalog and grants straight into D1 (the benchmark is the events path). */
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
  await db.batch([
    db
      .prepare(
        "INSERT INTO users (id, email, display_name, password_hash, role) VALUES ('usr_admin', 'admin@bench.local', 'Admin', ?, 'admin'), ('usr_fan', 'fan@bench.local', 'Fan', ?, 'listener')",
      )
      .bind(hash, hash),
    db.prepare(
      "INSERT INTO artists (id, name, owner_id) VALUES ('art_bench', 'Bench Artist', 'usr_admin')",
    ),
  ]);
  const statements: D1PreparedStatement[] = [];
  for (const id of ["trk_hot", ...manyIds]) {
    statements.push(
      db
        .prepare(
          "INSERT INTO tracks (id, title, artist_id, owner_id, visibility, status) VALUES (?, ?, 'art_bench', 'usr_admin', 'public', 'ready')",
        )
        .bind(id, id),
    );
  }
  for (const p of [...hot.playbacks, ...manyCold.playbacks, ...manyWarm.playbacks]) {
    statements.push(
      db
        .prepare(
          "INSERT INTO playbacks (id, user_id, track_id, territory, plan, shard, created_at, expires_at) VALUES (?, 'usr_fan', ?, 'DE', 'free', ?, ?, ?)",
        )
        .bind(p.id, p.trackId, p.shard, p.grantedAt, Date.now() + 3600_000),
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

/**
 * Each client owns some playbacks and sends their events in order, in batches of 50 made
 * of up to 10 events from each of several playbacks.
 */
function batchesOf(playbacks: Playback[]) {
  const queues = playbacks.map(eventsOf);
  const batches: unknown[][] = [];
  let batch: unknown[] = [];
  while (queues.some((q) => q.length)) {
    for (const queue of queues) {
      if (!queue.length) continue;
      batch.push(...queue.splice(0, Math.min(EVENTS_PER_PLAYBACK_PER_BATCH, BATCH - batch.length)));
      if (batch.length === BATCH) {
        batches.push(batch);
        batch = [];
      }
    }
  }
  if (batch.length) batches.push(batch);
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

async function run(s: Scenario, fan: string, admin: string, played: Playback[]) {
  const perClient = Array.from({ length: CLIENTS }, (_, c) =>
    batchesOf(s.playbacks.filter((_, i) => i % CLIENTS === c)),
  );
  const sent = perClient.flat();
  const events = sent.reduce((n, b) => n + b.length, 0);
  const totals = { accepted: 0, duplicates: 0, rejected: 0, codes: new Set<string>() };
  const started = performance.now();
  await Promise.all(
    perClient.map(async (batches) => {
      for (const batch of batches) {
        const outcome = await send(fan, batch);
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
    const outcome = await send(fan, sent[i] as unknown[]);
    resent += (sent[i] as unknown[]).length;
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
    const fan = await login("fan@bench.local");
    const admin = await login("admin@bench.local");
    console.log(
      `\nplays benchmark, ${mode.name}: batches of ${BATCH}, ${CLIENTS} concurrent clients, loopback`,
    );
    const played: Playback[] = [];
    for (const s of [hot, manyCold, manyWarm]) {
      const r = await run(s, fan, admin, played);
      ok &&= r.exact;
      figures.push(
        `${mode.name}, ${r.scenario}: ${Math.round(r.perSecond).toLocaleString()} events/s`,
      );
      console.log(
        `\n${r.scenario}: ${r.events.toLocaleString()} events in ${r.batches} batches, ${r.seconds.toFixed(2)} s → ${Math.round(r.perSecond).toLocaleString()} events/s`,
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
