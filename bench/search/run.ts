/**
 * `npm run bench:search`: loads a generated catalog (100,000 tracks by default, BENCH_TRACKS
 * overrides) into a local D1, then measures search and suggest through the api worker and
 * the same suggest query written as LIKE '%q%', all through `wrangler dev` on loopback.
 */
import { rmSync, mkdirSync } from "node:fs";
import path from "node:path";
import { getPlatformProxy } from "wrangler";
import { ROOT, applyLocalMigrations, ensureDevVars } from "../../scripts/lib/setup.mjs";
import { rng, generateCatalog, loadStatements } from "./catalog";
import { startWorker, stopWorker, summarize, timeRequests } from "../lib";

const TRACKS = Number(process.env["BENCH_TRACKS"] ?? 100_000);
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 400);
const API_PORT = 8797;
const LIKE_PORT = 8798;
const persistTo = path.join(ROOT, "bench/.state/search");

rmSync(persistTo, { recursive: true, force: true });
mkdirSync(persistTo, { recursive: true });
ensureDevVars();
applyLocalMigrations(persistTo);

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
  await proxy.dispose();
}
console.log(`loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

// Queries as people type them: prefixes of real words, a finished word plus a partial one,
// common words with many matches, and typos that need the fallback.
const random = rng(7);
const titleWords = catalog.tracks.slice(0, 5000).flatMap((t) => t.title.split(" "));
const pickWord = () => titleWords[Math.floor(random() * titleWords.length)] ?? "love";
const suggestQueries: string[] = [];
for (let i = 0; i < 200; i++) {
  const w = pickWord();
  const cut = Math.min(w.length, 3 + Math.floor(random() * 3));
  suggestQueries.push(i % 3 === 0 ? `${pickWord()} ${w.slice(0, cut)}` : w.slice(0, cut));
}
const searchQueries = Array.from({ length: 200 }, () => pickWord());

const api = await startWorker("wrangler.toml", API_PORT, persistTo, "/healthz");
const like = await startWorker("bench/search/wrangler.toml", LIKE_PORT, persistTo, "/?q=x");
try {
  const url = (base: string, q: string) => `${base}${encodeURIComponent(q)}`;
  const suggestUrls = suggestQueries.map((q) => url(`http://127.0.0.1:${API_PORT}/v1/search/suggest?q=`, q));
  const searchUrls = searchQueries.map((q) => url(`http://127.0.0.1:${API_PORT}/v1/search?limit=20&q=`, q));
  const likeUrls = suggestQueries.map((q) => url(`http://127.0.0.1:${LIKE_PORT}/?q=`, q));
  // Warm both isolates and SQLite's page cache before measuring.
  await timeRequests(suggestUrls, 50);
  await timeRequests(likeUrls, 20);
  const rounds = { suggest: [] as number[], search: [] as number[], like: [] as number[] };
  // Interleave rounds so machine noise hits all three alike.
  for (let round = 0; round < 4; round++) {
    rounds.suggest.push(...(await timeRequests(suggestUrls, REQUESTS / 4)));
    rounds.search.push(...(await timeRequests(searchUrls, REQUESTS / 4)));
    rounds.like.push(...(await timeRequests(likeUrls, Math.max(10, REQUESTS / 20))));
  }
  const rows = Object.entries(rounds).map(([name, samples]) => ({ name, ...summarize(samples) }));
  console.log(`\nsearch benchmark: ${TRACKS.toLocaleString()} tracks, sequential requests through wrangler dev`);
  console.log("query                      n     p50 ms   p95 ms   p99 ms");
  for (const r of rows) {
    const label = r.name === "like" ? "suggest as LIKE '%q%'" : r.name === "suggest" ? "suggest (FTS5 prefix)" : "search (FTS5, 20 results)";
    console.log(`${label.padEnd(26)} ${String(r.n).padStart(4)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}`);
  }
  const s = rows.find((r) => r.name === "suggest");
  const l = rows.find((r) => r.name === "like");
  if (s && l) {
    console.log(`\nLIKE / suggest: p50 ${(l.p50 / s.p50).toFixed(1)}x, p95 ${(l.p95 / s.p95).toFixed(1)}x slower`);
    console.log(`target: suggest p95 < 15 ms (${s.p95 < 15 ? "met" : "NOT met"}), >= 20x faster than LIKE at p50 (${l.p50 / s.p50 >= 20 ? "met" : "NOT met"})`);
  }
} finally {
  stopWorker(api);
  stopWorker(like);
}
