/** What a Range header asks of an object of `size` bytes. */
export type RangeRequest =
  | { kind: "full" }
  | { kind: "partial"; offset: number; length: number }
  | { kind: "unsatisfiable" };

/**
 * Single byte ranges (`a-b`, `a-`, `-n`) are honoured; a missing, malformed or multi-range
 * header gets the whole object (RFC 9110 lets a server ignore Range), and a range that
 * starts past the end is unsatisfiable (416).
 */
export function parseRange(header: string | null, size: number): RangeRequest {
  if (!header) return { kind: "full" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: "full" };
  const [, startText = "", endText = ""] = match;
  if (startText === "" && endText === "") return { kind: "full" };
  if (startText === "") {
    const suffix = Number(endText);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "partial", offset: size - length, length };
  }
  const start = Number(startText);
  const end = endText === "" ? size - 1 : Math.min(Number(endText), size - 1);
  if (start >= size) return { kind: "unsatisfiable" };
  if (end < start) return { kind: "full" };
  return { kind: "partial", offset: start, length: end - start + 1 };
}
