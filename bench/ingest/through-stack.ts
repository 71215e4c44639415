import { readFile } from "node:fs/promises";
import { startStack } from "../../test/e2e/stack";

/**
 * Seconds from `complete` to `ready` for one file through the whole local stack: api under
 * wrangler dev (queue, consumer, D1, R2 via presigned URLs) and the transcoder.
 */
export async function completeToReadySeconds(file: string): Promise<number> {
  const stack = await startStack();
  try {
    const json = async (method: string, route: string, token?: string, body?: unknown) => {
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
    };
    const { accessToken } = (await json("POST", "/v1/auth/register", undefined, {
      email: "bench@bench.local",
      password: "correct horse battery",
      displayName: "Bench",
    })) as { accessToken: string };
    const bytes = await readFile(file);
    const created = (await json("POST", "/v1/uploads", accessToken, {
      filename: "bench.flac",
      contentType: "audio/flac",
      size: bytes.length,
    })) as {
      uploadId: string;
      putUrl: string;
      headers: Record<string, string>;
    };
    const put = await fetch(created.putUrl, {
      method: "PUT",
      headers: created.headers,
      body: bytes,
    });
    if (!put.ok) throw new Error(`PUT ${put.status}`);
    const started = performance.now();
    await json("POST", `/v1/uploads/${created.uploadId}/complete`, accessToken);
    for (;;) {
      const upload = await json("GET", `/v1/uploads/${created.uploadId}`, accessToken);
      if (upload["state"] === "ready") return (performance.now() - started) / 1000;
      if (upload["state"] === "failed")
        throw new Error(`failed: ${JSON.stringify(upload["failure"])}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await stack.stop();
  }
}
