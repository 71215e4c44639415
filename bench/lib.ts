import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT, WRANGLER_ENV, wranglerBin } from "../scripts/lib/setup.mjs";

/** p-th percentile (0-100) of already-sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

export function summarize(samplesMs: number[]) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), n: sorted.length };
}

/** Starts `wrangler dev` for one config on a port and resolves once `probePath` answers. */
export async function startWorker(config: string, port: number, persistTo: string, probePath: string) {
  const child = spawn(
    wranglerBin(),
    ["dev", "-c", config, "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persistTo, "--inspector-port", String(port + 1000), "--show-interactive-dev-session=false", "--log-level", "warn"],
    { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ["ignore", "ignore", "inherit"] },
  );
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}${probePath}`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  stopWorker(child);
  throw new Error(`${path.basename(config)} did not start on port ${port}`);
}

export function stopWorker(child: ChildProcess) {
  try {
    if (child.pid) process.kill(-child.pid, "SIGTERM");
  } catch {
    // gone already
  }
}

/** Times `count` sequential GETs, cycling through the URLs. */
export async function timeRequests(urls: string[], count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const url = urls[i % urls.length] as string;
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    samples.push(performance.now() - started);
  }
  return samples;
}
