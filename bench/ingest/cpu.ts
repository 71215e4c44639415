import { readFileSync } from "node:fs";

/** This process's CPU seconds plus those of the children it has reaped, from /proc. */
export function cpuSecondsWithChildren(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  // Counting from the field after "(comm)": utime, stime, cutime, cstime are indexes 11-14.
  const ticks = [11, 12, 13, 14].map((i) => Number(fields[i] ?? 0)).reduce((a, b) => a + b, 0);
  return ticks / 100;
}
