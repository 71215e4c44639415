/**
 * `npm run bench:ingest`: a generated 5-minute 44.1 kHz stereo track through the transcoder's
 * single-pass pipeline and through the naive approach, in the same run; then the
 * single-pass job on a long input (BENCH_LONG_MINUTES, default 60) for its peak memory.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { bundleForNode } from "../../containers/transcoder/build.mjs";
import { ROOT } from "../../scripts/lib/setup.mjs";
import { makeMusic } from "../../containers/transcoder/test/media";
import { completeToReadySeconds } from "./through-stack";

const MINUTES = Number(process.env["BENCH_MINUTES"] ?? 5);
const LONG_MINUTES = Number(process.env["BENCH_LONG_MINUTES"] ?? 60);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);

/** The process and all its descendants, found through each thread's `children` list. */
function processTree(rootPid: number): number[] {
  const tree: number[] = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    tree.push(pid);
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const children = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
        if (children) stack.push(...children.split(" ").map(Number));
      }
    } catch {
      // exited while we looked
    }
  }
  return tree;
}

/**
 * Memory of a process tree in bytes, as the sum of PSS (proportional set size): shared
 * library pages count once across the processes that map them, where summing RSS would
 * count ffmpeg's libraries once per process.
 */
function treeMemory(rootPid: number): number {
  let total = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      total += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch {
      // exited while we looked
    }
  }
  return total;
}

/**
 * Bundles a bench script to plain JavaScript, so the measured process is `node` running
 * what the container runs, not a TypeScript loader.
 */
function bundle(script: string, outDir: string): Promise<string> {
  return bundleForNode(
    path.join(ROOT, script),
    path.join(outDir, `${path.basename(script, ".ts")}.mjs`),
  );
}

/**
 * Runs a bundled bench script in its own process; returns its JSON line and, when asked,
 * its peak memory. Sampling memory costs CPU on the machine being measured (a parallel
 * job feels it, a serial one barely), so timed rounds do not sample.
 */
async function measure(script: string, args: string[], sampleMemory = false) {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c));
  let peak = 0;
  const timer = sampleMemory
    ? setInterval(() => child.pid && (peak = Math.max(peak, treeMemory(child.pid))), 50)
    : undefined;
  const code = await new Promise<number | null>((r) => child.once("close", r));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${script} failed`);
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
    wallSeconds: number;
    cpuSeconds: number;
  };
  return { ...result, peakMemoryMb: peak / 1024 / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const work = mkdtempSync(path.join(tmpdir(), "bench-ingest-"));
try {
  const singlePass = await bundle("bench/ingest/single-pass.ts", work);
  const naive = await bundle("bench/ingest/naive.ts", work);
  const source = path.join(work, "source.flac");
  console.log(`generating a ${MINUTES}-minute 44.1 kHz stereo FLAC…`);
  makeMusic(source, MINUTES * 60);
  const audioSeconds = MINUTES * 60;
  const scripts = { "single pass": singlePass, naive } as const;
  type Approach = keyof typeof scripts;
  const approaches = Object.keys(scripts) as Approach[];
  const rows = {
    "single pass": { wall: [] as number[], cpu: [] as number[], memory: 0 },
    naive: { wall: [] as number[], cpu: [] as number[], memory: 0 },
  };
  const run = async (approach: Approach, sampleMemory: boolean) => {
    const out = mkdtempSync(path.join(work, "out-"));
    try {
      return await measure(scripts[approach], [source, out], sampleMemory);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  // Timed rounds alternate the approaches, so both see the same machine.
  for (let round = 0; round < ROUNDS; round++) {
    for (const approach of approaches) {
      const r = await run(approach, false);
      rows[approach].wall.push(r.wallSeconds);
      rows[approach].cpu.push(r.cpuSeconds);
    }
  }
  for (const approach of approaches) {
    rows[approach].memory = (await run(approach, true)).peakMemoryMb;
  }
  console.log(
    `\ningest benchmark: ${MINUTES}-minute track, ${availableParallelism()} cores, median of ${ROUNDS} timed rounds (memory from one more, sampled, round each)`,
  );
  console.log("approach        wall s   realtime   CPU s   peak PSS MB");
  for (const approach of approaches) {
    const r = rows[approach];
    const wall = median(r.wall);
    console.log(
      `${approach.padEnd(14)} ${wall.toFixed(1).padStart(7)} ${(audioSeconds / wall).toFixed(1).padStart(9)}x ${median(r.cpu).toFixed(1).padStart(7)} ${r.memory.toFixed(0).padStart(12)}`,
    );
  }
  const rounds = (approach: Approach) => rows[approach].wall.map((w) => w.toFixed(1)).join(", ");
  console.log(`single pass, each round: ${rounds("single pass")} s; naive: ${rounds("naive")} s`);
  const speedup = median(rows.naive.wall) / median(rows["single pass"].wall);
  console.log(
    `single pass is ${speedup.toFixed(2)}x faster than naive (target >= 1.7x); realtime target >= 25x`,
  );

  const stackSeconds = await completeToReadySeconds(source);
  console.log(
    `\ncomplete -> ready through the local stack (queue, consumer, presigned URLs, transcoder, D1): ` +
      `${stackSeconds.toFixed(1)} s for ${MINUTES} minutes of audio (${(audioSeconds / stackSeconds).toFixed(1)}x realtime)`,
  );

  if (LONG_MINUTES > 0) {
    const long = path.join(work, "long.flac");
    console.log(`\ngenerating a ${LONG_MINUTES}-minute input for the memory check…`);
    makeMusic(long, LONG_MINUTES * 60);
    const out = mkdtempSync(path.join(work, "out-long-"));
    const r = await measure(singlePass, [long, out], true);
    console.log(
      `${LONG_MINUTES}-minute input: wall ${r.wallSeconds.toFixed(1)} s (${((LONG_MINUTES * 60) / r.wallSeconds).toFixed(1)}x realtime), peak memory (PSS, whole process tree incl. Node) ${r.peakMemoryMb.toFixed(0)} MB (target < 150 MB)`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
