import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeMusic } from "@edge-music/testkit/lavfi-media";
import { probeRefusal, sniffRefusal } from "./admission.js";
import { decodeArgs, probeArgs } from "./ffmpeg-args.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("sniffing the first bytes", () => {
  it.each([
    ["#EXTM3U\n#EXTINF:3,\n/etc/passwd\n", "PLAYLIST"],
    ["\uFEFF  #EXTINF:3,x\n", "PLAYLIST"],
    ["[playlist]\nFile1=/tmp/a.mp3\n", "PLAYLIST"],
    ["ffconcat version 1.0\nfile '/tmp/a.mp3'\n", "PLAYLIST"],
    ["file '/etc/hostname'\n", "PLAYLIST"],
    ['<?xml version="1.0"?><MPD/>', "NOT_AUDIO"],
  ])("names %j a %s", (head, code) => {
    expect(sniffRefusal(bytes(head))?.code).toBe(code);
  });

  it("names pictures", () => {
    for (const head of [
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a],
      [0xff, 0xd8, 0xff, 0xe0],
      [0x47, 0x49, 0x46, 0x38, 0x39, 0x61],
      [...bytes("RIFF"), 0, 0, 0, 0, ...bytes("WEBPVP8 ")],
    ]) {
      expect(sniffRefusal(Uint8Array.from(head))?.code).toBe("IMAGE");
    }
  });

  it("lets audio through to the probe", () => {
    expect(sniffRefusal(bytes("ID3\u0004\u0000"))).toBeNull();
    expect(sniffRefusal(Uint8Array.from([0xff, 0xfb, 0x90, 0x64]))).toBeNull();
    expect(sniffRefusal(bytes("fLaC\u0000\u0000"))).toBeNull();
    expect(sniffRefusal(bytes("RIFF\u0000\u0000\u0000\u0000WAVEfmt "))).toBeNull();
  });
});

describe("what ffmpeg may open", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "admission-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("every run on an upload allows only local files and our demuxers", () => {
    for (const args of [
      probeArgs("/x/source"),
      decodeArgs("/x/source", { sampleRate: 44100, channels: 2, bits: 16 }, 2, 60),
    ]) {
      expect(args.join(" ")).toContain(
        "-protocol_whitelist file -format_whitelist mp3,wav,flac,aac,mov,ogg,aiff",
      );
      expect(args).toContain("file:/x/source");
    }
  });

  it("a playlist that reaches ffprobe anyway is refused without opening what it names", async () => {
    const secret = path.join(dir, "secret.mp3");
    makeMusic(secret, 2);
    // Junk first, so the sniff would not know it; ffmpeg's own HLS probe would.
    const playlist = path.join(dir, "list.mp3");
    await writeFile(
      playlist,
      `#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:2,\n${secret}\n#EXT-X-ENDLIST\n`,
    );
    const run = spawnSync("ffprobe", probeArgs(playlist), { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(probeRefusal(run.stderr)).toMatchObject({ code: "UNSUPPORTED_FORMAT" });
    expect(probeRefusal(run.stderr).reason).toMatch(/^The file is hls,/);
  });

  it("a Matroska file is a format we do not take, named", async () => {
    const mka = path.join(dir, "a.mka");
    makeMusic(mka, 1);
    const run = spawnSync("ffprobe", probeArgs(mka), { encoding: "utf8" });
    expect(probeRefusal(run.stderr).reason).toMatch(/^The file is matroska, which we do not take/);
  });
});
