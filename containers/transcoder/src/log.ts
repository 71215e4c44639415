/** One JSON object per line, as the workers log; never pass URLs with signatures here. */
export function log(
  level: "info" | "warn" | "error",
  message: string,
  fields: Record<string, unknown> = {},
) {
  const line = JSON.stringify({
    level,
    message,
    time: new Date().toISOString(),
    service: "transcoder",
    ...fields,
  });
  (level === "info" ? console.log : console.error)(line);
}
