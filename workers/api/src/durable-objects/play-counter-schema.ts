/**
 * A PlayCounter's SQLite tables. `totals.rev` grows with every change and `flushed_rev` records
 * what D1 has: a row is dirty while they differ, and a flush that raced new events leaves it so.
 */
export const COUNTER_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen_events (event_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_events_at ON seen_events (seen_at);
CREATE TABLE IF NOT EXISTS sessions (
  playback_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  played_ms INTEGER NOT NULL,
  total_ms INTEGER NOT NULL,
  counted INTEGER NOT NULL,
  ended INTEGER NOT NULL,
  last_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS totals (
  day TEXT NOT NULL,
  territory TEXT NOT NULL,
  plan TEXT NOT NULL,
  rendition TEXT NOT NULL,
  streams INTEGER NOT NULL,
  played_ms INTEGER NOT NULL,
  rev INTEGER NOT NULL,
  flushed_rev INTEGER NOT NULL,
  PRIMARY KEY (day, territory, plan, rendition)
);
CREATE TABLE IF NOT EXISTS pending_streams (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  played_at INTEGER NOT NULL,
  territory TEXT NOT NULL,
  plan TEXT NOT NULL,
  rendition TEXT NOT NULL
);
`;

/** One playback's progress; `seq` grows when a playback is started again after its end. */
export type SessionRow = {
  playback_id: string;
  seq: number;
  played_ms: number;
  total_ms: number;
  counted: number;
  ended: number;
  last_at: number | null;
  updated_at: number;
};

export type TotalsRow = {
  day: string;
  territory: string;
  plan: string;
  rendition: string;
  streams: number;
  played_ms: number;
  rev: number;
};

export type PendingStreamRow = {
  id: string;
  user_id: string;
  played_at: number;
  territory: string;
  plan: string;
  rendition: string;
};
