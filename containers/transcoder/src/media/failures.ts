import type { TranscodeEvent } from "@edge-music/core/transcode-contract";
import { PROCESS_MEMORY_LIMIT_BYTES, type ProcessResult } from "../run-process.js";

export type JobFailure = Extract<TranscodeEvent, { type: "failed" }>;

/** stderr lines that mean the input itself is broken, not the machine. */
const BAD_INPUT =
  /Invalid data found|Error while decoding|[Cc]orrupt|Header missing|invalid frame|could not find codec|Error submitting packet/;

/**
 * What a failed ffmpeg run means for the upload. Bad input fails at once with what ffmpeg
 * said about it; a crash (a signal: the OOM killer, a segfault), a spawn failure or an exit we
 * cannot explain is transient and retried; a process we stopped for its memory is refused.
 */
export function classifyFailure(result: Exclude<ProcessResult, { ok: true }>): JobFailure {
  const failed = (code: JobFailure["code"], reason: string, retryable: boolean): JobFailure => ({
    type: "failed",
    code,
    reason,
    retryable,
  });
  switch (result.kind) {
    case "spawn_failed":
      return failed("TRANSCODE_FAILED", `ffmpeg could not be started (${result.message}).`, true);
    case "killed":
      return result.reason === "memory"
        ? failed(
            "RESOURCE_LIMIT",
            `Decoding this file needed more than ${PROCESS_MEMORY_LIMIT_BYTES / 1024 / 1024} MB of memory; it is not an ordinary audio file.`,
            false,
          )
        : failed("TIMED_OUT", "The job was stopped before it finished.", true);
    case "ffmpeg_exit": {
      if (result.signal !== null) {
        return failed(
          "TRANSCODE_CRASHED",
          `ffmpeg stopped unexpectedly (${result.signal}); the upload will be tried again.`,
          true,
        );
      }
      const line = result.stderrTail.split("\n").find((l) => BAD_INPUT.test(l));
      if (line) {
        // ffmpeg's own words, without the path of our scratch folder.
        const said = line
          .replace(/file:\/?[^\s:]+/g, "the file")
          .replace(/\s+/g, " ")
          .trim();
        return failed("UNREADABLE", `The audio could not be decoded: ${said.slice(0, 200)}`, false);
      }
      return failed(
        "TRANSCODE_FAILED",
        `ffmpeg failed (exit code ${result.exitCode}); the upload will be tried again.`,
        true,
      );
    }
  }
}

/** The packager failed on our own encoder's output: nothing the upload did, so retried. */
export const ENCRYPTION_FAILED: JobFailure = {
  type: "failed",
  code: "TRANSCODE_FAILED",
  reason: "Encrypting the renditions failed; it will be tried again.",
  retryable: true,
};
