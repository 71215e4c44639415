/**
 * What one feature keeps about an account, stated by the feature itself so the privacy
 * service can export and erase it without knowing its tables. In every statement `?1` is the
 * account's id; an export section also gets `?2`, the last rowid sent, and `?3`, a page size.
 */
export type PersonalData = {
  /** Statements for the one erasure batch, in the order this feature needs them. */
  erase?: readonly string[];
  /** Sections of the export; `omit` names columns that are secrets. */
  export?: readonly { name: string; sql: string; omit?: readonly string[] }[];
};

/** An export section that pages through `table`'s rows whose `column` is the account. */
export const rowsOf = (table: string, column: string) =>
  `SELECT rowid AS _rowid, * FROM ${table} WHERE ${column} = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3`;

/** The account's own tracks, for statements that reach what hangs off them. */
export const OWN_TRACKS = "SELECT id FROM tracks WHERE owner_id = ?1";
