/**
 * `npm run bench:ingest`: for each kind of material (noise, a tonal chord, a mix like a real
 * track), a generated 5-minute 44.1 kHz stereo track through the transcoder's single-pass
 * pipeline and through the naive approach, in the same run; complete -> ready for one track
 * through the local stack; an album (12 tonal 4-minute tracks) through the local stack, with
 * the pipeline's factor on the same material in the same run; then the single-pass job on a
 * long tonal input (BENCH_LONG_MINUTES, default 60) for its peak memory; and the cost of
 * content protection: the single-pass job with and without cbcs encryption, alternating.
 * BENCH_PARTS (comma-separated: ladder, protection, stack, album, memory) runs only some of it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { bundleForNode } from "@edge-music/transcoder/build";
import { packagerPath } from "@edge-music/transcoder/media/packager";
import { ROOT } from "../../scripts/lib/setup.mjs";
import { MATERIALS, makeMaterial, type Material } from "@edge-music/testkit/lavfi-media";
import { albumBatch, completeToReadySeconds } from "./through-stack";

const MINUTES = Number(process.env["BENCH_MINUTES"] ?? 5);
const LONG_MINUTES = Number(process.env["BENCH_LONG_MINUTES"] ?? 60);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const ALBUM_TRACKS = Number(process.env["BENCH_ALBUM_TRACKS"] ?? 12);
const PARTS = new Set(
  (process.env["BENCH_PARTS"] ?? "ladder,protection,stack,album,memory").split(","),
);

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
    // The bundle runs from a scratch folder: it is told where the packager is, as in the image.
    env: { ...process.env, SHAKA_PACKAGER: packagerPath() },
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
    mediaBytes?: number;
  };
  return { ...result, peakMemoryMb: peak / 1024 / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const work = mkdtempSync(path.join(tmpdir(), "bench-ingest-"));
try {
  const singlePass = await bundle("bench/ingest/single-pass.ts", work);
  const naive = await bundle("bench/ingest/naive.ts", work);
  const scripts = { "single pass": singlePass, naive } as const;
  type Approach = keyof typeof scripts;
  const approaches = Object.keys(scripts) as Approach[];
  const run = async (approach: Approach, source: string, sampleMemory: boolean) => {
    const out = mkdtempSync(path.join(work, "out-"));
    try {
      return await measure(scripts[approach], [source, out], sampleMemory);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  const sources = new Map<Material, string>();
  const sourceOf = (material: Material) => {
    let source = sources.get(material);
    if (!source) {
      source = path.join(work, `${material}.flac`);
      console.log(`generating ${MINUTES} minutes of ${material}…`);
      makeMaterial(source, MINUTES * 60, material);
      sources.set(material, source);
    }
    return source;
  };
  const audioSeconds = MINUTES * 60;

  if (PARTS.has("ladder")) {
    type Row = { wall: number[]; cpu: number[] };
    const rows = new Map<string, Row>();
    const row = (material: Material, approach: Approach) => {
      const key = `${material}/${approach}`;
      if (!rows.has(key)) rows.set(key, { wall: [], cpu: [] });
      return rows.get(key) as Row;
    };
    for (const material of MATERIALS) sourceOf(material);
    // Timed rounds alternate materials and approaches, so all see the same machine.
    for (let round = 0; round < ROUNDS; round++) {
      for (const material of MATERIALS) {
        for (const approach of approaches) {
          const r = await run(approach, sourceOf(material), false);
          row(material, approach).wall.push(r.wallSeconds);
          row(material, approach).cpu.push(r.cpuSeconds);
        }
      }
    }
    console.log(
      `\ningest benchmark: ${MINUTES}-minute tracks, ${availableParallelism()} cores, median of ${ROUNDS} timed rounds`,
    );
    console.log("material  approach       wall s   realtime   CPU s   single pass vs naive");
    let worstRealtime = Infinity;
    let worstSpeedup = Infinity;
    for (const material of MATERIALS) {
      const speedup =
        median(row(material, "naive").wall) / median(row(material, "single pass").wall);
      for (const approach of approaches) {
        const r = row(material, approach);
        const wall = median(r.wall);
        if (approach === "single pass")
          worstRealtime = Math.min(worstRealtime, audioSeconds / wall);
        console.log(
          `${material.padEnd(9)} ${approach.padEnd(12)} ${wall.toFixed(1).padStart(7)} ${(audioSeconds / wall).toFixed(1).padStart(9)}x ${median(r.cpu).toFixed(1).padStart(7)}   ${approach === "single pass" ? `${speedup.toFixed(2)}x` : ""}`,
        );
      }
      worstSpeedup = Math.min(worstSpeedup, speedup);
      const rounds = (a: Approach) =>
        row(material, a)
          .wall.map((w) => w.toFixed(1))
          .join(", ");
      console.log(
        `          rounds: single pass ${rounds("single pass")} s; naive ${rounds("naive")} s`,
      );
    }
    console.log(
      `worst material: single pass ${worstRealtime.toFixed(1)}x realtime (target >= 25x), ${worstSpeedup.toFixed(2)}x faster than naive (target >= 1.7x)`,
    );
  }

  if (PARTS.has("protection")) {
    // Clear and encrypted jobs alternate on the same material, so both see the same machine.
    console.log(
      `\ncontent protection: the single-pass job with and without cbcs, ${MINUTES}-minute tracks, median of ${ROUNDS} rounds`,
    );
    console.log("material  clear s   cbcs s   wall +%   media bytes clear -> cbcs");
    let worst = -Infinity;
    for (const material of ["chord", "noise"] as const) {
      const source = sourceOf(material);
      const clear: { wall: number; bytes: number }[] = [];
      const cbcs: { wall: number; bytes: number }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of round % 2
          ? (["cbcs", "clear"] as const)
          : (["clear", "cbcs"] as const)) {
          const out = mkdtempSync(path.join(work, "out-"));
          try {
            const r = await measure(singlePass, [
              source,
              out,
              ...(mode === "cbcs" ? ["cbcs"] : []),
            ]);
            (mode === "cbcs" ? cbcs : clear).push({
              wall: r.wallSeconds,
              bytes: r.mediaBytes ?? 0,
            });
          } finally {
            rmSync(out, { recursive: true, force: true });
          }
        }
      }
      const clearWall = median(clear.map((c) => c.wall));
      const cbcsWall = median(cbcs.map((c) => c.wall));
      const extra = (cbcsWall / clearWall - 1) * 100;
      worst = Math.max(worst, extra);
      const clearBytes = clear[0]?.bytes ?? 0;
      const cbcsBytes = cbcs[0]?.bytes ?? 0;
      console.log(
        `${material.padEnd(9)} ${clearWall.toFixed(2).padStart(7)} ${cbcsWall.toFixed(2).padStart(8)} ${extra.toFixed(1).padStart(8)}%   ${clearBytes} -> ${cbcsBytes} (${(((cbcsBytes - clearBytes) / clearBytes) * 100).toFixed(2)}%)`,
      );
    }
    console.log(
      `encryption costs at most ${worst.toFixed(1)}% more wall time per job (target <= 3%)`,
    );

    // The whole job as the platform runs it: complete -> ready through the local stack (queue,
    // consumer, presigned URLs, the transcoder's download, transcode and stores, D1).
    const stack = { clear: [] as number[], cbcs: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 ? (["cbcs", "clear"] as const) : (["clear", "cbcs"] as const)) {
        stack[mode].push(
          await completeToReadySeconds(sourceOf("noise"), {
            CONTENT_PROTECTION: mode === "cbcs" ? "cbcs" : "off",
          }),
        );
      }
    }
    const [c, e] = [median(stack.clear), median(stack.cbcs)];
    console.log(
      `through the stack, ${MINUTES} minutes of noise, complete -> ready: clear ${c.toFixed(2)} s, cbcs ${e.toFixed(2)} s (${((e / c - 1) * 100).toFixed(1)}%)`,
    );
  }

  if (PARTS.has("stack")) {
    const stackSeconds = await completeToReadySeconds(sourceOf("chord"));
    console.log(
      `\ncomplete -> ready through the local stack (queue, consumer, presigned URLs, transcoder, D1), ` +
        `${MINUTES} minutes of chord: ${stackSeconds.toFixed(1)} s (${(audioSeconds / stackSeconds).toFixed(1)}x realtime)`,
    );
  }

  if (PARTS.has("album")) {
    console.log(`\ngenerating an album: ${ALBUM_TRACKS} tonal tracks of 4 minutes…`);
    const tracks = Array.from({ length: ALBUM_TRACKS }, (_, i) => {
      const file = path.join(work, `album-${String(i + 1).padStart(2, "0")}.flac`);
      // Each track in its own key, a semitone apart.
      makeMaterial(file, 240, "chord", { root: 196 * 2 ** (i / 12) });
      return file;
    });
    const pipeline = await run("single pass", tracks[0] as string, false);
    const pipelineFactor = 240 / pipeline.wallSeconds;
    const album = await albumBatch(tracks);
    const batchFactor = (ALBUM_TRACKS * 240) / album.allReadySeconds;
    console.log(
      `album through the local stack: ${ALBUM_TRACKS} x 4 min of chord, ${album.allReadySeconds.toFixed(1)} s until all ready = ${batchFactor.toFixed(1)}x realtime (target >= 20x); ` +
        `the single-pass pipeline on track 1: ${pipeline.wallSeconds.toFixed(1)} s = ${pipelineFactor.toFixed(1)}x; ` +
        `batch / pipeline = ${(batchFactor / pipelineFactor).toFixed(2)} (target >= 0.75); first track playable after ${album.firstReadySeconds.toFixed(1)} s`,
    );
  }

  if (PARTS.has("memory") && LONG_MINUTES > 0) {
    const long = path.join(work, "long.flac");
    console.log(`\ngenerating a ${LONG_MINUTES}-minute tonal input for the memory check…`);
    makeMaterial(long, LONG_MINUTES * 60, "chord");
    const out = mkdtempSync(path.join(work, "out-long-"));
    const r = await measure(singlePass, [long, out], true);
    console.log(
      `${LONG_MINUTES}-minute chord: wall ${r.wallSeconds.toFixed(1)} s (${((LONG_MINUTES * 60) / r.wallSeconds).toFixed(1)}x realtime), peak memory (PSS, whole process tree incl. Node) ${r.peakMemoryMb.toFixed(0)} MB (target < 150 MB)`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
