import { z } from "@hono/zod-openapi";
import { asc, desc, sql, type AnyColumn, type SQL } from "drizzle-orm";
import { DomainError } from "@edge-music/core/api-errors";
import { fromBase64, toBase64Url } from "./crypto";

export const PAGE_LIMIT_DEFAULT = 20;
export const PAGE_LIMIT_MAX = 100;

/** Query parameters every list endpoint accepts. */
export const PageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_LIMIT_MAX)
    .default(PAGE_LIMIT_DEFAULT)
    .openapi({ description: `Items per page (1-${PAGE_LIMIT_MAX}).` }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ description: "`nextCursor` of the previous page." }),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

/** The envelope of every list: `nextCursor` is null on the last page. */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Every key optional, and explicitly allowed to be undefined: the shape of a PATCH body. */
export type Patch<T> = { [K in keyof T]?: T[K] | undefined };

export type Page<T> = { items: T[]; nextCursor: string | null };

type Key = string | number;
const CursorSchema = z.tuple([z.union([z.string(), z.number()]), z.string()]);

export function encodeCursor(values: readonly [Key, string]): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(values)));
}

export function decodeCursor(cursor: string | undefined): [Key, string] | null {
  if (cursor === undefined) return null;
  try {
    return CursorSchema.parse(JSON.parse(new TextDecoder().decode(fromBase64(cursor))));
  } catch {
    throw new DomainError("INVALID_CURSOR", "The cursor is not one this list handed out.");
  }
}

/**
 * Keyset pagination over (sort column, id): the WHERE that resumes after the cursor and the
 * ORDER BY that goes with it. Ties on the sort column are broken by id, ascending.
 */
export function keyset(
  sortColumn: AnyColumn | SQL,
  direction: "asc" | "desc",
  idColumn: AnyColumn,
  cursor: [Key, string] | null,
): { where: SQL | undefined; orderBy: SQL[] } {
  const orderBy = [direction === "asc" ? asc(sortColumn) : desc(sortColumn), asc(idColumn)];
  if (!cursor) return { where: undefined, orderBy };
  const [value, id] = cursor;
  const beyond =
    direction === "asc" ? sql`${sortColumn} > ${value}` : sql`${sortColumn} < ${value}`;
  return { where: sql`(${beyond} OR (${sortColumn} = ${value} AND ${idColumn} > ${id}))`, orderBy };
}

/** Cuts a `limit + 1` fetch to a page, deriving the next cursor from the last item kept. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  cursorOf: (row: Row) => readonly [Key, string],
  toItem: (row: Row) => Item,
): Page<Item> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor(cursorOf(last)) : null;
  return { items: kept.map(toItem), nextCursor };
}
