import { readFile } from "node:fs/promises";
import path from "node:path";
import { startStack, type Stack } from "../../test/e2e/stack";

/** Uploads browsers send at once (the web app's limit too). */
const PARALLEL_UPLOADS = 3;
/** How often the album's uploads are each asked about (the web app asks every second). */
const ALBUM_POLL_MS = 500;

async function json(
  stack: Stack,
  method: string,
  route: string,
  token?: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.api}${route}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : null,
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

/** An artist's account on a fresh local stack, as `npm start` runs it (transcoder in its own process). */
async function withUploader<T>(run: (stack: Stack, token: string) => Promise<T>): Promise<T> {
  const stack = await startStack({ transcoder: "process" });
  try {
    const { accessToken } = (await json(stack, "POST", "/v1/auth/register", undefined, {
      email: "bench@bench.local",
      password: "correct horse battery",
      displayName: "Bench",
    })) as { accessToken: string };
    return await run(stack, accessToken);
  } finally {
    await stack.stop();
  }
}

/** Asks for an upload, PUTs the file to its presigned URL and completes it. */
async function send(stack: Stack, token: string, file: string): Promise<string> {
  const bytes = await readFile(file);
  const created = (await json(stack, "POST", "/v1/uploads", token, {
    filename: path.basename(file),
    contentType: "audio/flac",
    size: bytes.length,
  })) as { uploadId: string; putUrl: string; headers: Record<string, string> };
  const put = await fetch(created.putUrl, { method: "PUT", headers: created.headers, body: bytes });
  if (!put.ok) throw new Error(`PUT ${put.status}`);
  await json(stack, "POST", `/v1/uploads/${created.uploadId}/complete`, token);
  return created.uploadId;
}

/**
 * Resolves when the upload is ready (rejects if it failed), asking every `pollMs` as the web
 * app does (a dozen uploads polled every 100 ms would load the 2 cores being measured).
 */
async function ready(stack: Stack, token: string, id: string, pollMs = 100): Promise<void> {
  for (;;) {
    const upload = await json(stack, "GET", `/v1/uploads/${id}`, token);
    if (upload["state"] === "ready") return;
    if (upload["state"] === "failed")
      throw new Error(`failed: ${JSON.stringify(upload["failure"])}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Seconds from `complete` to `ready` for one file through the whole local stack: api under
 * wrangler dev (queue, consumer, D1, R2 via presigned URLs) and the transcoder.
 */
export function completeToReadySeconds(file: string): Promise<number> {
  return withUploader(async (stack, token) => {
    const bytes = await readFile(file);
    const created = (await json(stack, "POST", "/v1/uploads", token, {
      filename: "bench.flac",
      contentType: "audio/flac",
      size: bytes.length,
    })) as { uploadId: string; putUrl: string; headers: Record<string, string> };
    const put = await fetch(created.putUrl, {
      method: "PUT",
      headers: created.headers,
      body: bytes,
    });
    if (!put.ok) throw new Error(`PUT ${put.status}`);
    const started = performance.now();
    await json(stack, "POST", `/v1/uploads/${created.uploadId}/complete`, token);
    await ready(stack, token, created.uploadId);
    return (performance.now() - started) / 1000;
  });
}

/**
 * An album through the whole local stack, as an artist's browser sends it: every file asked
 * for, PUT and completed, a few at a time; timed from the first request until the first and
 * the last track are playable.
 */
export function albumBatch(
  files: string[],
): Promise<{ firstReadySeconds: number; allReadySeconds: number }> {
  return withUploader(async (stack, token) => {
    const started = performance.now();
    let firstReady = Infinity;
    const pending = [...files];
    const waits: Promise<void>[] = [];
    const sender = async () => {
      for (let file = pending.shift(); file; file = pending.shift()) {
        const id = await send(stack, token, file);
        waits.push(
          ready(stack, token, id, ALBUM_POLL_MS).then(() => {
            firstReady = Math.min(firstReady, performance.now());
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, sender));
    await Promise.all(waits);
    return {
      firstReadySeconds: (firstReady - started) / 1000,
      allReadySeconds: (performance.now() - started) / 1000,
    };
  });
}
