/**
 * `npm run bench:gate`: requests per second and latency for a 100 KB byte range served by
 * (1) a bare worker reading R2, (2) the stream-gate verifying its token with the cache off,
 * (3) the stream-gate with a warm cache; all through `wrangler dev` on loopback, in
 * alternating rounds, ratios as medians over rounds.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { getPlatformProxy } from "wrangler";
import { signPlaybackToken } from "@edge-music/core/playback-token";
import { ROOT, ensureDebianPackages } from "../../scripts/lib/setup.mjs";
import { startWorker, type BenchWorker } from "../lib";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 5);
const CONNECTIONS = 10;
const RANGE = "bytes=100000-202399"; // 100 KB
const KEY = "tracks/trk_bench/av_bench/aac_128/media.mp4";
const persistTo = path.join(ROOT, "bench/.state/gate");

rmSync(persistTo, { recursive: true, force: true });
mkdirSync(persistTo, { recursive: true });
{
  const proxy = await getPlatformProxy<{ MEDIA: R2Bucket }>({
    configPath: path.join(ROOT, "workers/stream-gate/wrangler.toml"),
    persist: { path: path.join(persistTo, "v3") },
  });
  await proxy.env.MEDIA.put(KEY, new Uint8Array(randomBytes(2_000_000)).buffer);
  await proxy.dispose();
}
const keys = { b1: randomBytes(32).toString("base64url") };
const envFile = path.join(persistTo, "gate.env");
writeFileSync(envFile, `PLAYBACK_KEYS=${JSON.stringify(keys)}\n`);
const token = await signPlaybackToken(
  {
    sub: "usr_bench",
    trk: "trk_bench",
    av: "av_bench",
    max: 4,
    exp: Math.floor(Date.now() / 1000) + 3600,
  },
  "b1",
  new Map(Object.entries(keys)),
);

type Stats = { rps: number; p50: number; p99: number };

/** wrk (C, from Debian's `wrk` package) loads the server harder than a Node client can. */
const HAVE_WRK = ensureDebianPackages({
  commands: ["wrk"],
  packages: ["wrk"],
  purpose: "falling back to autocannon",
  required: false,
});

function ms(text: string | undefined): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text ?? "");
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

async function load(url: string): Promise<Stats> {
  if (HAVE_WRK) {
    const run = spawnSync(
      "wrk",
      ["-t2", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-H", `Range: ${RANGE}`, url],
      { encoding: "utf8" },
    );
    if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`);
    if (/Non-2xx or 3xx responses/.test(run.stdout))
      throw new Error(`${url}: failed requests\n${run.stdout}`);
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1]),
      p50: ms(/^\s+50%\s+(\S+)/m.exec(run.stdout)?.[1]),
      p99: ms(/^\s+99%\s+(\S+)/m.exec(run.stdout)?.[1]),
    };
  }
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { Range: RANGE },
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${url}: ${bad} failed requests`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const workers: BenchWorker[] = [];
try {
  workers.push(await startWorker("bench/gate/wrangler.toml", 8891, persistTo, "/healthz"));
  const gateConfig = "workers/stream-gate/wrangler.toml";
  workers.push(
    await startWorker(gateConfig, 8892, persistTo, "/healthz", {
      envFile,
      vars: { GATE_CACHE: "off" },
    }),
  );
  workers.push(await startWorker(gateConfig, 8893, persistTo, "/healthz", { envFile }));
  const urls = {
    bare: `http://127.0.0.1:8891/${KEY}`,
    gate: `http://127.0.0.1:8892/p/${token}/aac_128/media.mp4`,
    cached: `http://127.0.0.1:8893/p/${token}/aac_128/media.mp4`,
  };
  // Warm every path (and fill the cache of the third).
  for (const url of Object.values(urls)) {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, { headers: { Range: RANGE } });
      if (res.status !== 206) throw new Error(`${url} answered ${res.status}`);
      await res.arrayBuffer();
    }
  }
  const rounds: Record<keyof typeof urls, Stats[]> = { bare: [], gate: [], cached: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(urls) as (keyof typeof urls)[])
      rounds[name].push(await load(urls[name]));
  }
  console.log(
    `
gate benchmark (${HAVE_WRK ? "wrk" : "autocannon: apt-get install wrk for a faster client"}): 100 KB range, ${CONNECTIONS} connections, ${SECONDS} s x ${ROUNDS} rounds, through wrangler dev`,
  );
  console.log("variant                          req/s    p50 ms   p99 ms   (medians)");
  const label = {
    bare: "(1) bare worker reading R2",
    gate: "(2) gate, token check, no cache",
    cached: "(3) gate, warm cache",
  };
  for (const name of Object.keys(urls) as (keyof typeof urls)[]) {
    const r = rounds[name];
    console.log(
      `${label[name].padEnd(32)} ${median(r.map((x) => x.rps))
        .toFixed(0)
        .padStart(6)} ${median(r.map((x) => x.p50))
        .toFixed(1)
        .padStart(8)} ${median(r.map((x) => x.p99))
        .toFixed(1)
        .padStart(8)}`,
    );
  }
  const ratio = (a: Stats[], b: Stats[]) => median(a.map((x, i) => x.rps / (b[i]?.rps ?? NaN)));
  console.log(
    `\nratio 2/1 (gate / bare): ${ratio(rounds.gate, rounds.bare).toFixed(2)} (target >= 0.9)`,
  );
  console.log(
    `ratio 3/1 (warm cache / bare): ${ratio(rounds.cached, rounds.bare).toFixed(2)} (target >= 1.1)`,
  );
} finally {
  await Promise.all(workers.map((w) => w.stop()));
}
