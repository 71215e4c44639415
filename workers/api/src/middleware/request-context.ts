import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { readConfig } from "../lib/config";
import { log } from "../lib/log";
import { buildServices } from "../features";

/**
 * Gives each request an id (echoed as `X-Request-Id`), its services, and one structured
 * access-log line. The line holds the path only: query strings and headers may carry tokens.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const requestId = crypto.randomUUID();
  c.set("requestId", requestId);
  c.set("viewer", null);
  c.set("services", buildServices(c.env, readConfig(c.env)));
  await next();
  c.header("X-Request-Id", requestId);
  // Time inside the worker (Workers clocks advance on I/O: D1 time is what it measures).
  c.header("Server-Timing", `app;dur=${Date.now() - started}`);
  log("info", "request", {
    requestId,
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    durationMs: Date.now() - started,
    userId: c.get("viewer")?.id ?? null,
  });
});
