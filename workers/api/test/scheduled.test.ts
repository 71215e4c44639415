import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { ENDED_SESSION_RETENTION_MS } from "../src/scheduled";
import { register } from "./helpers";

describe("daily cron", () => {
  it("deletes sessions that ended long ago with their refresh tokens, and keeps live ones", async () => {
    const old = await register();
    const live = await register();
    const longAgo = Date.now() - ENDED_SESSION_RETENTION_MS - 1000;
    await env.DB.prepare("UPDATE sessions SET revoked_at = ? WHERE user_id = ?")
      .bind(longAgo, old.id)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const count = (sql: string, id: string) =>
      env.DB.prepare(sql)
        .bind(id)
        .first<{ n: number }>()
        .then((r) => r?.n);
    expect(await count("SELECT count(*) AS n FROM sessions WHERE user_id = ?", old.id)).toBe(0);
    expect(
      await count(
        "SELECT count(*) AS n FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = ?",
        old.id,
      ),
    ).toBe(0);
    const orphans = await env.DB.prepare(
      "SELECT count(*) AS n FROM refresh_tokens WHERE session_id NOT IN (SELECT id FROM sessions)",
    ).first<{ n: number }>();
    expect(orphans?.n).toBe(0);
    expect(await count("SELECT count(*) AS n FROM sessions WHERE user_id = ?", live.id)).toBe(1);
  });
});
