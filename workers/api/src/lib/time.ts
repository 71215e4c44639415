/** Milliseconds in a day (UTC days: no daylight saving). */
export const DAY_MS = 24 * 3600 * 1000;
