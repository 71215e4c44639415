import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { availableParallelism } from "node:os";
import { JobRequestSchema, type TranscodeEvent } from "@edge-music/core/transcode-contract";
import { limiter } from "@edge-music/core/limiter";
import { runJob } from "./job.js";
import { runRepackage } from "./repackage.js";
import { log } from "./log.js";

/** Port the transcoder listens on when run by `npm start` (TRANSCODER_PORT overrides). */
export const TRANSCODER_DEFAULT_PORT = 8789;
/** Largest job request body; a job is a few dozen URLs. */
const MAX_REQUEST_BYTES = 256 * 1024;

export type ServerConfig = {
  /** Shared secret the api presents as `Authorization: Bearer <secret>`. */
  secret: string;
  /**
   * Transcodes at once (the CPU-bound stage); each already uses every core. Default: one per
   * four cores, at least one.
   */
  maxConcurrentJobs?: number;
  /** Jobs allowed to wait; beyond that the api is told to come back later (503). */
  maxWaitingJobs?: number;
};

function problem(
  res: ServerResponse,
  status: number,
  code: string,
  detail: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    "Content-Type": "application/problem+json",
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(JSON.stringify({ type: "about:blank", title: code, status, code, detail }));
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Constant-time check of the bearer secret (hashing first equalizes lengths). */
export function authorized(header: string | undefined, secret: string): boolean {
  const presented = /^Bearer (.+)$/.exec(header ?? "")?.[1] ?? "";
  return timingSafeEqual(digest(presented), digest(secret)) && presented.length > 0;
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function createHandler(config: ServerConfig) {
  const transcodes =
    config.maxConcurrentJobs ?? Math.max(1, Math.floor(availableParallelism() / 4));
  // Twice as many jobs as transcodes are admitted: while one transcodes, the next downloads
  // its source and the last stores its outputs, so the cores never wait on the network.
  const jobs = limiter(2 * transcodes);
  const cpu = limiter(transcodes);
  const maxWaiting = config.maxWaitingJobs ?? 64;

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://transcoder").pathname;
    if (req.method === "GET" && path === "/ping") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      return void res.end("pong");
    }
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      return void res.end(
        JSON.stringify({ ok: true, service: "transcoder", waitingJobs: jobs.waiting }),
      );
    }
    if (req.method !== "POST" || path !== "/jobs") {
      return problem(res, 404, "ROUTE_NOT_FOUND", `No route for ${req.method} ${path}.`);
    }
    if (!authorized(req.headers.authorization, config.secret)) {
      return problem(res, 401, "UNAUTHENTICATED", "A valid transcoder secret is required.");
    }
    const body = await readBody(req);
    if (body === null)
      return problem(
        res,
        413,
        "REQUEST_TOO_LARGE",
        `Job requests are limited to ${MAX_REQUEST_BYTES} bytes.`,
      );
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return problem(res, 400, "MALFORMED_JSON", "The request body is not valid JSON.");
    }
    const parsed = JobRequestSchema.safeParse(json);
    if (!parsed.success) {
      return problem(
        res,
        400,
        "VALIDATION_FAILED",
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    }
    if (jobs.waiting >= maxWaiting) {
      return problem(res, 503, "BUSY", "Too many jobs are waiting; try again later.", {
        "Retry-After": "30",
      });
    }
    // NDJSON: progress lines while working, then one result line.
    res.writeHead(200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-store" });
    const emit = (event: TranscodeEvent) => res.write(`${JSON.stringify(event)}\n`);
    // The caller gone (the consumer cancelled the upload, or died): the job stops at once,
    // its ffmpeg processes killed and its scratch folder removed.
    const gone = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) gone.abort(new Error("caller went away"));
    });
    try {
      await jobs.run(async () => {
        if (gone.signal.aborted) return;
        const job = parsed.data;
        // Re-packaging decodes nothing: it does not wait for a transcode slot.
        if ("kind" in job) await runRepackage(job, emit, gone.signal);
        else await runJob(job, emit, gone.signal, cpu.run);
      });
    } catch (error) {
      if (gone.signal.aborted) {
        log("info", "job stopped: its caller went away", { jobId: parsed.data.jobId });
        return;
      }
      log("error", "job crashed", { jobId: parsed.data.jobId, error: String(error) });
      emit({
        type: "failed",
        code: "TRANSCODE_FAILED",
        reason: "The transcoder failed unexpectedly.",
        retryable: true,
      });
    }
    res.end();
  };
}

/** Starts the HTTP server; port 0 picks a free port (tests). */
export function startServer(
  port: number,
  config: ServerConfig,
  host = "127.0.0.1",
): Promise<Server> {
  const handle = createHandler(config);
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log("error", "request failed", { error: String(error) });
      if (!res.headersSent) problem(res, 500, "INTERNAL", "Something went wrong.");
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
