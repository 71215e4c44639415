import { spawn, type ChildProcess } from "node:child_process";
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

/** Starts `wrangler dev` for one config on a port and resolves once `probePath` answers. */
export async function startWorker(
  config: string,
  port: number,
  persistTo: string,
  probePath: string,
  options: { vars?: Record<string, string>; envFile?: string } = {},
) {
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
  try {
    await waitHealthy(`http://127.0.0.1:${port}${probePath}`);
    return child;
  } catch (error) {
    stopWorker(child);
    throw new Error(`${path.basename(config)} did not start on port ${port}: ${String(error)}`);
  }
}

export function stopWorker(child: ChildProcess) {
  try {
    if (child.pid) process.kill(-child.pid, "SIGTERM");
  } catch {
    // gone already
  }
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
