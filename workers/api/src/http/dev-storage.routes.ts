import { Hono } from "hono";
import { log } from "../lib/log";
import type { AppEnv } from "../app-env";
import { readConfig } from "../lib/config";
import { verifyPresigned } from "../lib/presign";

/**
 * Development only: stands in for R2's S3 endpoint so presigned URLs work offline. It checks
 * each request exactly as R2 would (signature, expiry, signed type and length) and streams
 * bodies into the R2 binding without buffering. Bare status codes, like S3.
 */
export const devStorageRoutes = new Hono<AppEnv>().all("/*", async (c) => {
  const config = readConfig(c.env);
  if (config.environment === "production") return c.body(null, 404);
  const check = await verifyPresigned(config.storage, c.req.raw);
  if (!check.ok) return c.text(check.reason, 403, { "Cache-Control": "no-store" });
  const { key } = check;
  switch (c.req.method) {
    case "PUT": {
      const length = Number(c.req.header("content-length"));
      if (!c.req.raw.body || !Number.isFinite(length))
        return c.text("Content-Length required", 411);
      try {
        await c.env.MEDIA.put(key, c.req.raw.body, {
          httpMetadata: { contentType: c.req.header("content-type") ?? "application/octet-stream" },
        });
      } catch {
        // The client went away mid-body (a cancelled upload): R2 keeps no partial object.
        log("warn", "dev storage: upload interrupted", { requestId: c.get("requestId") });
        return c.text("The upload was interrupted.", 400);
      }
      return c.body(null, 200);
    }
    case "GET":
    case "HEAD": {
      const object = await c.env.MEDIA.get(key);
      if (!object) return c.body(null, 404);
      const headers = new Headers({ "Content-Length": String(object.size), ETag: object.httpEtag });
      object.writeHttpMetadata(headers);
      return new Response(c.req.method === "HEAD" ? null : object.body, { headers });
    }
    default:
      return c.body(null, 405);
  }
});
