import { describe, expect, it } from "vitest";
import { RENDITIONS } from "@edge-music/core/renditions";
import { planEncoderGroups, renditionCodecArgs } from "./ffmpeg-args.js";

const analysis = { fingerprintPath: "fp.txt" };
const plan = (workers: number) =>
  planEncoderGroups(RENDITIONS, workers, (r) => `${r.id}.mp4`, analysis);

describe("planEncoderGroups", () => {
  it("makes every rendition and the analysis exactly once, in at most one process per worker", () => {
    for (const workers of [1, 2, 3, 4, 8]) {
      const groups = plan(workers);
      expect(groups.length).toBeLessThanOrEqual(Math.min(workers, RENDITIONS.length + 1));
      expect(groups.every((g) => g.outputs.length > 0 || g.analysis)).toBe(true);
      const made = groups.flatMap((g) => g.outputs.map((o) => o.rendition.id)).sort();
      expect(made).toEqual(RENDITIONS.map((r) => r.id).sort());
      expect(made.map((id) => `${id}.mp4`)).toEqual(
        groups.flatMap((g) => g.outputs.map((o) => o.path)).sort(),
      );
      expect(groups.filter((g) => g.analysis).length).toBe(1);
    }
  });

  it("keeps the two rungs that are heavy on tonal music apart on two cores", () => {
    const groups = plan(2);
    expect(groups).toHaveLength(2);
    const holder = (id: string) =>
      groups.findIndex((g) => g.outputs.some((o) => o.rendition.id === id));
    expect(holder("aac_128")).not.toBe(holder("aac_256"));
  });

  it("gives one process everything on one core", () => {
    const [only, ...rest] = plan(1);
    expect(rest).toHaveLength(0);
    expect(only?.outputs).toHaveLength(RENDITIONS.length);
    expect(only?.analysis).toEqual(analysis);
  });
});

describe("renditionCodecArgs", () => {
  it("uses the fast AAC coder on every rung, a 12 kHz cutoff at 64k and no mid/side at 256k", () => {
    const args = new Map(RENDITIONS.map((r) => [r.id, renditionCodecArgs(r, 16).join(" ")]));
    for (const r of RENDITIONS.filter((r) => r.codec === "aac"))
      expect(args.get(r.id)).toContain("-aac_coder fast");
    expect(args.get("aac_64")).toContain("-cutoff 12000");
    expect(args.get("aac_256")).toContain("-aac_ms 0");
    expect(args.get("aac_128")).not.toContain("-aac_ms");
    expect(args.get("flac")).toContain("-sample_fmt s16");
    expect(RENDITIONS.find((r) => r.codec === "flac")).toBeDefined();
  });
});
