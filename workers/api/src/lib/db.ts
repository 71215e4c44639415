import type { BatchItem } from "drizzle-orm/batch";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

export type Db = DrizzleD1Database;
export type Query = BatchItem<"sqlite">;

export function createDb(d1: D1Database): Db {
  return drizzle(d1);
}

/** Runs queries atomically in one D1 batch (an implicit transaction); their results in order. */
export async function runBatch(db: Db, queries: Query[]): Promise<unknown[]> {
  const [first, ...rest] = queries;
  if (!first) return [];
  return db.batch([first, ...rest]);
}
