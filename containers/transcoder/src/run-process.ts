import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";

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
  | { ok: false; kind: "spawn_failed"; command: string; message: string };

/** stderr kept per process: enough for the ffmpeg error and the ebur128 summary. */
const STDERR_TAIL_CHARS = 8_000;

export type Running = {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  done: Promise<ProcessResult>;
};

/** Spawns `command` with `args` (never a shell), collecting stdout only if asked. */
export function startProcess(
  command: string,
  args: string[],
  options: { collectStdout?: boolean; extraStdio?: Writable[] } = {},
): Running {
  // Extra streams become the child's fds 3, 4, ... (pipes it writes straight into).
  const child = spawn(command, args, {
    stdio: ["pipe", "pipe", "pipe", ...(options.extraStdio ?? [])],
  }) as ChildProcessByStdio<Writable, Readable, Readable>;
  let stdout = "";
  let stderr = "";
  if (options.collectStdout)
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL_CHARS);
  });
  // A consumer that stops reading early (an encoder that failed) must not crash us with EPIPE.
  child.stdin.on("error", () => undefined);
  const done = new Promise<ProcessResult>((resolve) => {
    child.once("error", (error) =>
      resolve({ ok: false, kind: "spawn_failed", command, message: error.message }),
    );
    child.once("close", (exitCode, signal) => {
      resolve(
        exitCode === 0
          ? { ok: true, stdout, stderrTail: stderr }
          : { ok: false, kind: "ffmpeg_exit", command, exitCode, signal, stderrTail: stderr },
      );
    });
  });
  return { child, done };
}

/** Runs to completion; for short commands (ffprobe, cover extraction). */
export function runProcess(command: string, args: string[]): Promise<ProcessResult> {
  const running = startProcess(command, args, { collectStdout: true });
  running.child.stdin.end();
  return running.done;
}
