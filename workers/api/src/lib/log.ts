type Level = "debug" | "info" | "warn" | "error";

/**
 * One JSON object per line. Callers pass ids and outcomes, never credentials: no
 * passwords, tokens, Authorization headers or query strings reach this function.
 */
export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
