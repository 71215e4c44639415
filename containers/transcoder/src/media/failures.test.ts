import { describe, expect, it } from "vitest";
import { runProcess } from "../run-process.js";
import { classifyFailure } from "./failures.js";

const exit = (exitCode: number | null, signal: string | null, stderrTail = "") =>
  ({ ok: false, kind: "ffmpeg_exit", command: "ffmpeg", exitCode, signal, stderrTail }) as const;

describe("what a failed ffmpeg run means", () => {
  it("a signal is a crash, retried", () => {
    for (const signal of ["SIGKILL", "SIGSEGV", "SIGABRT"]) {
      expect(classifyFailure(exit(null, signal))).toMatchObject({
        code: "TRANSCODE_CRASHED",
        retryable: true,
      });
    }
  });

  it("bad data is the file's fault, said in ffmpeg's words without our paths", () => {
    const failure = classifyFailure(
      exit(
        1,
        null,
        "[flac @ 0x1] invalid frame header\nfile:/tmp/job-x-1/source: Invalid data found when processing input\n",
      ),
    );
    expect(failure).toMatchObject({ code: "UNREADABLE", retryable: false });
    expect(failure.reason).toContain("invalid frame header");
    expect(failure.reason).not.toContain("/tmp/");
  });

  it("an exit we cannot explain is retried; a timeout too; too much memory is refused", () => {
    expect(classifyFailure(exit(1, null, "Conversion failed!"))).toMatchObject({
      code: "TRANSCODE_FAILED",
      retryable: true,
    });
    expect(
      classifyFailure({
        ok: false,
        kind: "killed",
        command: "ffmpeg",
        reason: "aborted",
        stderrTail: "",
      }),
    ).toMatchObject({ code: "TIMED_OUT", retryable: true });
    expect(
      classifyFailure({
        ok: false,
        kind: "killed",
        command: "ffmpeg",
        reason: "memory",
        stderrTail: "",
      }),
    ).toMatchObject({ code: "RESOURCE_LIMIT", retryable: false });
  });

  it("a process over its memory limit is killed and says so", async () => {
    const result = await runProcess(
      "ffmpeg",
      ["-nostdin", "-re", "-f", "lavfi", "-i", "sine=d=30", "-f", "null", "-"],
      { memoryLimitBytes: 1024 * 1024 },
    );
    expect(result).toMatchObject({ ok: false, kind: "killed", reason: "memory" });
  });
});
