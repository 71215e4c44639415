import { describe, expect, it } from "vitest";
import { encryptionFlags, packagerArgs } from "./packager.js";

describe("packager arguments", () => {
  const key = {
    keyId: "00112233445566778899aabbccddeeff",
    key: "ffeeddccbbaa99887766554433221100",
  };

  it("puts the key only in the flag file, with cbcs, no clear lead and no pssh in the media", () => {
    const flags = encryptionFlags(key).split("\n");
    expect(flags).toContain(`--keys=label=:key_id=${key.keyId}:key=${key.key}`);
    expect(flags).toContain("--protection_scheme=cbcs");
    expect(flags).toContain("--clear_lead=0");
    expect(flags).toContain("--mp4_include_pssh_in_stream=false");
    const args = packagerArgs(
      [{ input: "/w/aac_64/media.mp4", output: "/w/aac_64/media.mp4.cbcs.mp4" }],
      "/w/packager.flags",
      6,
    );
    expect(args).toEqual([
      "in=/w/aac_64/media.mp4,stream=audio,output=/w/aac_64/media.mp4.cbcs.mp4",
      "--segment_duration=6",
      "--flagfile=/w/packager.flags",
      "--quiet",
    ]);
    expect(args.join(" ")).not.toContain(key.key);
  });
});
