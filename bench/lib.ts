import { spawn } from "node:child_process";
import { unstable_startWorker } from "wrangler";
import path from "node:path";
import {
  ROOT,
  WRANGLER_ENV,
  ensureWebBuild,
  waitHealthy,
  wranglerBin,
  wranglerDevArgs,
} from "../scripts/lib/setup.mjs";

/** p-th percentile (0-100) of already-sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

export function summarize(samplesMs: number[]) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    n: sorted.length,
  };
}

/** A worker started for a benchmark. */
export type BenchWorker = { stop(): Promise<void> };

/** Starts `wrangler dev` for one config on a port and resolves once `probePath` answers. */
export async function startWorker(
  config: string,
  port: number,
  persistTo: string,
  probePath: string,
  options: { vars?: Record<string, string>; envFile?: string } = {},
): Promise<BenchWorker> {
  ensureWebBuild();
  const child = spawn(
    wranglerBin(),
    [
      ...wranglerDevArgs({ config, port, inspectorPort: port + 1000, persistTo, ...options }),
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ["ignore", "ignore", "inherit"] },
  );
  const stop = async () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    } catch {
      // gone already
    }
  };
  try {
    await waitHealthy(`http://127.0.0.1:${port}${probePath}`);
    return { stop };
  } catch (error) {
    await stop();
    throw new Error(`${path.basename(config)} did not start on port ${port}: ${String(error)}`);
  }
}

/**
 * The same worker, bindings and local state through wrangler's `unstable_startWorker`, in
 * this process, with the DevTools inspector off (`wrangler dev` has no flag for that).
 */
export async function startWorkerWithoutInspector(
  config: string,
  port: number,
  persistTo: string,
): Promise<BenchWorker> {
  ensureWebBuild();
  Object.assign(process.env, WRANGLER_ENV);
  const worker = await unstable_startWorker({
    config: path.join(ROOT, config),
    dev: {
      inspector: false,
      server: { hostname: "127.0.0.1", port },
      persist: persistTo,
      logLevel: "warn",
      watch: false,
    },
  });
  await worker.ready;
  return { stop: () => worker.dispose() };
}

export type Timings = { roundTrip: number[]; app: number[] };

/**
 * Times `count` sequential GETs, cycling through the URLs: the round trip seen by the
 * client, and the worker's own `Server-Timing: app;dur=` (time spent inside the worker).
 */
export async function timeRequests(
  urls: string[],
  count: number,
  into?: Timings,
): Promise<Timings> {
  const timings = into ?? { roundTrip: [], app: [] };
  for (let i = 0; i < count; i++) {
    // Continue where the previous call on these timings stopped, so rounds cover every URL.
    const url = urls[(timings.roundTrip.length + 1) % urls.length] as string;
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    timings.roundTrip.push(performance.now() - started);
    const app = /app;dur=([\d.]+)/.exec(res.headers.get("Server-Timing") ?? "");
    if (app?.[1]) timings.app.push(Number(app[1]));
  }
  return timings;
}
