/**
 * `npm run bench:search`: loads a generated catalog (100,000 tracks by default, BENCH_TRACKS
 * overrides) into a local D1, then measures search and suggest through the api worker and
 * the same suggest query written as LIKE '%q%', all through `wrangler dev` on loopback.
 */

import { rmSync, mkdirSync } from "node:fs";
import path from "node:path";
import { getPlatformProxy } from "wrangler";
import { ROOT, applyLocalMigrations, ensureDevVars } from "../../scripts/lib/setup.mjs";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { foldText } from "@edge-music/core/search-text";
import { completionQuery } from "@edge-music/api/search";
import { rng, generateCatalog, loadStatements } from "./catalog";
import { LIKE_SUGGEST_SQL, likePattern } from "./like-query";
import { startWorker, type BenchWorker, summarize, timeRequests, type Timings } from "../lib";

const TRACKS = Number(process.env["BENCH_TRACKS"] ?? 100_000);
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 400);
const API_PORT = 8797;
const LIKE_PORT = 8798;
const persistTo = path.join(ROOT, "bench/.state/search");

rmSync(persistTo, { recursive: true, force: true });
mkdirSync(persistTo, { recursive: true });
ensureDevVars();
applyLocalMigrations(persistTo);

/**
 * SQL execution time as D1 reports it (`meta.duration`), without any transport: the
 * one-word suggest query against the same query as LIKE '%q%', on the same words.
 */
async function timeSql(db: D1Database) {
  const dialect = new SQLiteSyncDialect();
  const words = Array.from(
    { length: 100 },
    (_, i) => catalog.tracks[i * 97]?.title.split(" ")[0]?.slice(0, 3) ?? "lov",
  );
  const result = { completion: [] as number[], like: [] as number[] };
  for (let round = 0; round < 3; round++) {
    for (const word of words) {
      const q = dialect.sqlToQuery(completionQuery(foldText(word)));
      const completion = await db
        .prepare(q.sql)
        .bind(...q.params)
        .all();
      const like = await db.prepare(LIKE_SUGGEST_SQL).bind(likePattern(word)).all();
      if (round > 0) {
        result.completion.push(completion.meta.duration);
        result.like.push(like.meta.duration);
      }
    }
  }
  return result;
}
let sqlTimings = { completion: [] as number[], like: [] as number[] };

console.log(`loading ${TRACKS.toLocaleString()} tracks…`);
const catalog = generateCatalog(TRACKS);
const loadStarted = performance.now();
{
  const proxy = await getPlatformProxy<{ DB: D1Database }>({
    configPath: path.join(ROOT, "wrangler.toml"),
    // getPlatformProxy wants the v3 folder itself; wrangler dev --persist-to adds it.
    persist: { path: path.join(persistTo, "v3") },
  });
  let batch: D1PreparedStatement[] = [];
  for (const statement of loadStatements(catalog, "usr_bench")) {
    batch.push(proxy.env.DB.prepare(statement));
    if (batch.length === 10) {
      await proxy.env.DB.batch(batch);
      batch = [];
    }
  }
  if (batch.length) await proxy.env.DB.batch(batch);
  console.log(`loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
  sqlTimings = await timeSql(proxy.env.DB);
  await proxy.dispose();
}

// Queries as people type them: prefixes of real words (one word: the completion table),
// a finished word plus a partial one (FTS5), and whole words for full search.
const random = rng(7);
const titleWords = catalog.tracks.slice(0, 5000).flatMap((t) => t.title.split(" "));
const pickWord = () => titleWords[Math.floor(random() * titleWords.length)] ?? "love";
const prefixOf = (w: string) => w.slice(0, Math.min(w.length, 2 + Math.floor(random() * 4)));
const oneWord = Array.from({ length: 200 }, () => prefixOf(pickWord()));
// Two words as people type them: a word of a track's title or artist, then part of another.
const artistNames = new Map(catalog.artists.map((a) => [a.id, a.name]));
const twoWords = Array.from({ length: 200 }, () => {
  const track = catalog.tracks[Math.floor(random() * catalog.tracks.length)] ?? catalog.tracks[0];
  const title = (track?.title ?? "love").split(" ");
  const first =
    title.length > 1
      ? (title[0] ?? "")
      : (artistNames.get(track?.artistId ?? "") ?? "").split(" ")[0];
  return `${first} ${prefixOf(title.at(-1) ?? "")}`;
});
const interleave = <T>(a: T[], b: T[]) =>
  a.flatMap((x, i) => (b[i] === undefined ? [x] : [x, b[i] as T]));
const searchQueries = Array.from({ length: 200 }, () => pickWord());

const workers: BenchWorker[] = [];
try {
  workers.push(await startWorker("wrangler.toml", API_PORT, persistTo, "/healthz"));
  workers.push(await startWorker("bench/search/wrangler.toml", LIKE_PORT, persistTo, "/?q=x"));
  const urls = (base: string, queries: string[]) =>
    queries.map((q) => `${base}${encodeURIComponent(q)}`);
  const apiBase = `http://127.0.0.1:${API_PORT}`;
  const cases = {
    "healthz (floor of the path)": [`${apiBase}/healthz`],
    "one D1 query (genres)": [`${apiBase}/v1/genres?limit=1`],
    "suggest, one word": urls(`${apiBase}/v1/search/suggest?q=`, oneWord),
    "suggest, word + prefix": urls(`${apiBase}/v1/search/suggest?q=`, twoWords),
    "suggest, all queries": urls(`${apiBase}/v1/search/suggest?q=`, interleave(oneWord, twoWords)),
    "search, 20 results": urls(`${apiBase}/v1/search?limit=20&q=`, searchQueries),
    "suggest as LIKE '%q%'": urls(
      `http://127.0.0.1:${LIKE_PORT}/?q=`,
      interleave(oneWord, twoWords),
    ),
  };
  // Warm the isolates and SQLite's page cache before measuring.
  for (const list of Object.values(cases)) await timeRequests(list, 30);
  const results = Object.fromEntries(
    Object.keys(cases).map((k) => [k, { roundTrip: [], app: [] } as Timings]),
  );
  // Interleave rounds so machine noise hits every case alike; LIKE is slow, so fewer samples.
  const ROUNDS = 4;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, list] of Object.entries(cases)) {
      const n = name.includes("LIKE") ? Math.max(10, REQUESTS / 10) : REQUESTS;
      await timeRequests(list, Math.ceil(n / ROUNDS), results[name]);
    }
  }
  console.log(
    `\nsearch benchmark: ${TRACKS.toLocaleString()} tracks; sequential requests through wrangler dev`,
  );
  console.log(
    "round trip = client-measured; in worker = Server-Timing app;dur (ms, 1 ms resolution)\n",
  );
  console.log(`${"case".padEnd(30)}    n   round trip p50/p95/p99     in worker p50/p95/p99`);
  const stats: Record<
    string,
    { rt: ReturnType<typeof summarize>; app: ReturnType<typeof summarize> }
  > = {};
  for (const [name, t] of Object.entries(results)) {
    const rt = summarize(t.roundTrip);
    const app = summarize(t.app);
    stats[name] = { rt, app };
    const fmt = (x: ReturnType<typeof summarize>) =>
      [x.p50, x.p95, x.p99].map((v) => v.toFixed(1).padStart(6)).join(" ");
    console.log(`${name.padEnd(30)} ${String(rt.n).padStart(4)}   ${fmt(rt)}      ${fmt(app)}`);
  }
  const s = stats["suggest, all queries"];
  const l = stats["suggest as LIKE '%q%'"];
  if (s && l) {
    const ratio = (a: number, b: number) => (a / Math.max(b, 0.5)).toFixed(1);
    console.log(
      `\nLIKE vs suggest, round trip: p50 ${ratio(l.rt.p50, s.rt.p50)}x, p95 ${ratio(l.rt.p95, s.rt.p95)}x`,
    );
    console.log(
      `LIKE vs suggest, in worker:  p50 ${ratio(l.app.p50, s.app.p50)}x, p95 ${ratio(l.app.p95, s.app.p95)}x (suggest times under 1 ms count as 0.5 ms)`,
    );
    console.log(
      `target suggest p95 < 15 ms round trip: ${s.rt.p95 < 15 ? "met" : "NOT met"} (${s.rt.p95.toFixed(1)} ms)`,
    );
  }
  const c = summarize(sqlTimings.completion);
  const k = summarize(sqlTimings.like);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  // D1 reports whole milliseconds locally: a query under 1 ms reads 0, so ratios use 0.5 ms
  // as the floor and the mean (which averages the rounding out) is shown beside them.
  const floor = (v: number) => Math.max(v, 0.5);
  console.log(
    `\nSQL execution (D1 meta.duration, whole ms), one-word suggest vs LIKE, same ${c.n} queries:`,
  );
  console.log(
    `  completion p50 ${c.p50}  p95 ${c.p95}  mean ${mean(sqlTimings.completion).toFixed(2)}`,
  );
  console.log(`  LIKE       p50 ${k.p50}  p95 ${k.p95}  mean ${mean(sqlTimings.like).toFixed(2)}`);
  console.log(
    `  LIKE / completion: p50 >= ${(k.p50 / floor(c.p50)).toFixed(0)}x, p95 ${(k.p95 / floor(c.p95)).toFixed(0)}x, ` +
      `mean ${(mean(sqlTimings.like) / floor(mean(sqlTimings.completion))).toFixed(0)}x (target >= 20x)`,
  );
  {
  }
} finally {
  await Promise.all(workers.map((w) => w.stop()));
}
