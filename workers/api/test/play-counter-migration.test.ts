import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrateCounter } from "../src/durable-objects/play-counter-schema";

describe("a counter made before exclusions", () => {
  it("is brought up to the schema with its totals kept as royalty-bearing, once", async () => {
    const stub = env.PLAY_COUNTER.get(env.PLAY_COUNTER.idFromName("trk_legacy/0"));
    await runInDurableObject(stub, (_, state) => {
      const sql = state.storage.sql;
      for (const table of ["totals", "sessions", "pending_streams", "listener_days"]) {
        sql.exec(`DROP TABLE IF EXISTS ${table}`);
      }
      sql.exec(`CREATE TABLE totals (day TEXT NOT NULL, territory TEXT NOT NULL, plan TEXT NOT NULL,
        rendition TEXT NOT NULL, streams INTEGER NOT NULL, played_ms INTEGER NOT NULL,
        rev INTEGER NOT NULL, flushed_rev INTEGER NOT NULL, PRIMARY KEY (day, territory, plan, rendition))`);
      sql.exec(`CREATE TABLE sessions (playback_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
        played_ms INTEGER NOT NULL, total_ms INTEGER NOT NULL, counted INTEGER NOT NULL,
        ended INTEGER NOT NULL, last_at INTEGER, updated_at INTEGER NOT NULL)`);
      sql.exec(`CREATE TABLE pending_streams (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
        played_at INTEGER NOT NULL, territory TEXT NOT NULL, plan TEXT NOT NULL, rendition TEXT NOT NULL)`);
      sql.exec("INSERT INTO totals VALUES ('2026-11-30', 'DE', 'free', 'aac_128', 3, 90000, 2, 1)");
      migrateCounter(sql);
      migrateCounter(sql);
      expect(sql.exec("SELECT * FROM totals").toArray()).toEqual([
        {
          day: "2026-11-30",
          territory: "DE",
          plan: "free",
          rendition: "aac_128",
          exclusion: "",
          streams: 3,
          played_ms: 90000,
          rev: 2,
          flushed_rev: 1,
        },
      ]);
      for (const table of ["sessions", "pending_streams"]) {
        const columns = sql
          .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
          .toArray()
          .map((c) => c.name);
        expect(columns).toContain("exclusion");
      }
      expect(sql.exec("SELECT count(*) AS n FROM listener_days").one().n).toBe(0);
    });
  });
});
