import { apiCall, putUpload, registerAccount, sendUpload } from "../../test/e2e/client";
import { startStack, type Stack } from "../../test/e2e/stack";

/** Uploads browsers send at once (the web app's limit too). */
const PARALLEL_UPLOADS = 3;
/** How often the album's uploads are each asked about (the web app asks every second). */
const ALBUM_POLL_MS = 500;

/** An artist's account on a fresh local stack, as `npm start` runs it (transcoder in its own process). */
async function withUploader<T>(
  run: (stack: Stack, token: string) => Promise<T>,
  vars: Record<string, string> = {},
): Promise<T> {
  const stack = await startStack({ transcoder: "process", vars });
  try {
    return await run(stack, await registerAccount(stack, "bench@bench.local", "Bench"));
  } finally {
    await stack.stop();
  }
}

/**
 * Resolves when the upload is ready (rejects if it failed), asking every `pollMs` as the web
 * app does (a dozen uploads polled every 100 ms would load the 2 cores being measured).
 */
async function ready(stack: Stack, token: string, id: string, pollMs = 100): Promise<void> {
  for (;;) {
    const upload = await apiCall<Record<string, unknown>>(stack, token, "GET", `/v1/uploads/${id}`);
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
export function completeToReadySeconds(
  file: string,
  vars: Record<string, string> = {},
): Promise<number> {
  return withUploader(async (stack, token) => {
    const id = await putUpload(stack, token, file);
    const started = performance.now();
    await apiCall(stack, token, "POST", `/v1/uploads/${id}/complete`);
    await ready(stack, token, id);
    return (performance.now() - started) / 1000;
  }, vars);
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
        const id = await sendUpload(stack, token, file);
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
