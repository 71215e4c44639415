import {
  TranscodeEventSchema,
  type TranscodeEvent,
  type RepackageJobRequest,
  type RepackageResult,
  type TranscodeJobRequest,
  type TranscodeResult,
} from "@edge-music/core/transcode-contract";
import { ASSET_FILES, ASSET_OUTPUT_NAMES, assetContentType } from "@edge-music/core/renditions";
import type { uploads } from "@edge-music/core/db/schema";
import type { Config } from "../../lib/config";
import { presign } from "../../lib/presign";
import type { ContentKey } from "../playback/content-keys";

/** Container instances jobs are spread over (max_instances in wrangler.toml). */
const TRANSCODER_INSTANCES = 4;

export type TranscodeFailure = { code: string; reason: string; retryable: boolean };
export type TranscodeOutcome =
  { ok: true; result: TranscodeResult } | { ok: false; failure: TranscodeFailure };
export type RepackageOutcome =
  { ok: true; result: RepackageResult } | { ok: false; failure: TranscodeFailure };
type Progress = Extract<TranscodeEvent, { type: "progress" }>;

type JobEnd =
  Exclude<TranscodeEvent, Progress> | { type: "unavailable"; failure: TranscodeFailure };

/** Why a job did not end as asked: its failure, or an answer of the other kind of job. */
function failureOf(end: JobEnd): TranscodeFailure {
  if (end.type === "failed") {
    return { code: end.code, reason: end.reason, retryable: end.retryable };
  }
  if (end.type === "unavailable") return end.failure;
  return {
    code: "TRANSCODE_FAILED",
    reason: "The transcoder answered with another kind of result.",
    retryable: true,
  };
}

/**
 * Talks to the transcoder: hands it presigned URLs for the source and every output of an
 * asset version, then follows its NDJSON answer (progress lines, then the result).
 */
export class TranscoderClient {
  constructor(
    private readonly config: Config,
    private readonly env: Env,
  ) {}

  async run(
    upload: typeof uploads.$inferSelect,
    prefix: string,
    urlTtlSeconds: number,
    onProgress: (stage: Progress["stage"], percent: number) => Promise<void>,
    signal?: AbortSignal,
    contentKey: ContentKey | null = null,
  ): Promise<TranscodeOutcome> {
    const storage = this.config.storage;
    const outputs: Record<string, string> = {};
    for (const name of ASSET_OUTPUT_NAMES) {
      outputs[name] = await this.putUrl(prefix, name, urlTtlSeconds);
    }
    const job: TranscodeJobRequest = {
      version: 1,
      jobId: upload.id,
      source: {
        url: await presign(storage, {
          method: "GET",
          key: upload.objectKey ?? "",
          expiresSeconds: urlTtlSeconds,
        }),
        sizeBytes: upload.sizeBytes,
      },
      outputs,
      limits: { maxDurationSeconds: this.config.ingest.maxDurationSeconds },
      ...(contentKey ? { protection: { scheme: "cbcs" as const, ...contentKey } } : {}),
    };
    const end = await this.post(job, upload.id, onProgress, signal);
    if (end.type === "done") return { ok: true, result: end.result };
    return { ok: false, failure: failureOf(end) };
  }

  /**
   * Has the transcoder re-package an asset version's clear renditions (`sources`: presigned
   * GETs by rendition id) into encrypted files at `prefix`, under `contentKey`.
   */
  async repackage(
    jobId: string,
    sources: RepackageJobRequest["renditions"],
    prefix: string,
    contentKey: ContentKey,
    urlTtlSeconds: number,
  ): Promise<RepackageOutcome> {
    const outputs: Record<string, string> = {};
    for (const { id } of sources) {
      for (const name of [ASSET_FILES.media(id), ASSET_FILES.mediaPlaylist(id)])
        outputs[name] = await this.putUrl(prefix, name, urlTtlSeconds);
    }
    for (const name of [ASSET_FILES.master, ASSET_FILES.mpd])
      outputs[name] = await this.putUrl(prefix, name, urlTtlSeconds);
    const job: RepackageJobRequest = {
      version: 1,
      kind: "repackage",
      jobId,
      renditions: sources,
      outputs,
      protection: { scheme: "cbcs", ...contentKey },
    };
    const end = await this.post(job, jobId, async () => undefined);
    if (end.type === "repackaged") return { ok: true, result: end.result };
    return { ok: false, failure: failureOf(end) };
  }

  private putUrl(prefix: string, name: string, expiresSeconds: number): Promise<string> {
    return presign(this.config.storage, {
      method: "PUT",
      key: `${prefix}${name}`,
      headers: { "content-type": assetContentType(name) },
      expiresSeconds,
    });
  }

  /** Sends a job and follows its NDJSON answer (progress lines) to its last event. */
  private async post(
    job: TranscodeJobRequest | RepackageJobRequest,
    jobId: string,
    onProgress: (stage: Progress["stage"], percent: number) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<
    Exclude<TranscodeEvent, Progress> | { type: "unavailable"; failure: TranscodeFailure }
  > {
    const unavailable = (reason: string) => ({
      type: "unavailable" as const,
      failure: { code: "TRANSCODER_UNAVAILABLE", reason, retryable: true },
    });
    const res = await this.send(
      new Request(`${this.base()}/jobs`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.config.ingest.transcoderSecret}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify(job),
        ...(signal ? { signal } : {}),
      }),
      jobId,
    );
    if (!res.ok || !res.body) return unavailable(`The transcoder answered ${res.status}.`);
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const event = TranscodeEventSchema.parse(JSON.parse(line));
        if (event.type !== "progress") return event;
        await onProgress(event.stage, event.percent);
        // Going away is what stops the transcoder's job: it kills its processes at once.
        signal?.throwIfAborted();
      }
    }
    return unavailable("The transcoder stopped before answering.");
  }

  private base(): string {
    const url = this.config.ingest.transcoderUrl;
    return url === "container" ? "http://transcoder" : url.replace(/\/+$/, "");
  }

  /**
   * Production: one of a few container instances, chosen by the upload id so a retried job
   * returns to the same one. Locally and in tests: the transcoder's URL.
   */
  private send(request: Request, uploadId: string): Promise<Response> {
    if (this.config.ingest.transcoderUrl !== "container") return fetch(request);
    if (!this.env.TRANSCODER) {
      throw new Error('TRANSCODER_URL is "container" but no TRANSCODER binding exists');
    }
    const shard =
      [...uploadId].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % TRANSCODER_INSTANCES;
    return this.env.TRANSCODER.getByName(`transcoder-${shard}`).fetch(request);
  }
}
