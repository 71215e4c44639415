import { spawn, type ChildProcessByStdio } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";

/** Why we killed a process ourselves. */
export type KillReason = "aborted" | "memory";

/** How a child process ended, as a value: callers map failures to reasons people can read. */
export type ProcessResult =
  | { ok: true; stdout: string; stderrTail: string }
  | {
      ok: false;
      kind: "ffmpeg_exit";
      command: string;
      exitCode: number | null;
      signal: string | null;
      stderrTail: string;
    }
  | { ok: false; kind: "killed"; command: string; reason: KillReason; stderrTail: string }
  | { ok: false; kind: "spawn_failed"; command: string; message: string };

/** stderr kept per process: enough for the ffmpeg error and the ebur128 summary. */
const STDERR_TAIL_CHARS = 8_000;
/** How often a running process's memory is looked at. */
const MEMORY_CHECK_MS = 250;

/**
 * Resident memory one ffmpeg process may use before it is killed (documented in the README):
 * decoding and encoding audio needs tens of MB; more means a crafted file or a runaway.
 */
export const PROCESS_MEMORY_LIMIT_BYTES = 512 * 1024 * 1024;

export type Running = {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  done: Promise<ProcessResult>;
};

export type ProcessOptions = {
  collectStdout?: boolean;
  extraStdio?: Writable[];
  /** Aborting kills the process at once (the job was cancelled, timed out or lost its caller). */
  signal?: AbortSignal;
  memoryLimitBytes?: number;
};

/** Resident set size of a process, from /proc (null when it is gone or not on Linux). */
async function residentBytes(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/** Spawns `command` with `args` (never a shell), collecting stdout only if asked. */
export function startProcess(
  command: string,
  args: string[],
  options: ProcessOptions = {},
): Running {
  // Extra streams become the child's fds 3, 4, ... (pipes it writes straight into).
  const child = spawn(command, args, {
    stdio: ["pipe", "pipe", "pipe", ...(options.extraStdio ?? [])],
  }) as ChildProcessByStdio<Writable, Readable, Readable>;
  let stdout = "";
  let stderr = "";
  let killedFor: KillReason | null = null;
  const kill = (reason: KillReason) => {
    if (killedFor || child.exitCode !== null || child.signalCode !== null) return;
    killedFor = reason;
    child.kill("SIGKILL");
  };
  if (options.collectStdout)
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL_CHARS);
  });
  // A consumer that stops reading early (an encoder that failed) must not crash us with EPIPE.
  child.stdin.on("error", () => undefined);
  const onAbort = () => kill("aborted");
  if (options.signal?.aborted) queueMicrotask(onAbort);
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  const limit = options.memoryLimitBytes ?? PROCESS_MEMORY_LIMIT_BYTES;
  const watch = setInterval(() => {
    if (child.pid === undefined) return;
    void residentBytes(child.pid).then((bytes) => {
      if (bytes !== null && bytes > limit) kill("memory");
    });
  }, MEMORY_CHECK_MS);
  watch.unref();
  const done = new Promise<ProcessResult>((resolve) => {
    const finish = (result: ProcessResult) => {
      clearInterval(watch);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(result);
    };
    child.once("error", (error) =>
      finish({ ok: false, kind: "spawn_failed", command, message: error.message }),
    );
    child.once("close", (exitCode, signal) => {
      if (killedFor) {
        return finish({
          ok: false,
          kind: "killed",
          command,
          reason: killedFor,
          stderrTail: stderr,
        });
      }
      finish(
        exitCode === 0
          ? { ok: true, stdout, stderrTail: stderr }
          : { ok: false, kind: "ffmpeg_exit", command, exitCode, signal, stderrTail: stderr },
      );
    });
  });
  return { child, done };
}

/** Runs to completion; for short commands (ffprobe, cover extraction). */
export function runProcess(
  command: string,
  args: string[],
  options: Pick<ProcessOptions, "signal" | "memoryLimitBytes"> = {},
): Promise<ProcessResult> {
  const running = startProcess(command, args, { ...options, collectStdout: true });
  running.child.stdin.end();
  return running.done;
}
