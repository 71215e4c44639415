import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptCbcsStream } from "@edge-music/core/cbcs-decrypt";
import { keyIdToUuid } from "@edge-music/core/content-protection";
import { RENDITIONS } from "@edge-music/core/renditions";
import { makeMusic } from "@edge-music/testkit/lavfi-media";
import { readFmp4Layout } from "./fmp4.js";
import type { ContentKey } from "./packager.js";
import { transcode } from "./pipeline.js";
import { probeSource } from "./probe.js";

let dir: string;
const key: ContentKey = {
  keyId: randomBytes(16).toString("hex"),
  key: randomBytes(16).toString("hex"),
};
let clear: { out: string; result: Awaited<ReturnType<typeof run>>["result"] };
let encrypted: typeof clear;

async function run(source: string, contentKey: ContentKey | null) {
  const probed = await probeSource(source, 7200);
  if (!probed.ok) throw new Error(probed.refusal.reason);
  const out = await mkdtemp(path.join(dir, "out-"));
  const outcome = await transcode(
    source,
    probed.source,
    out,
    undefined,
    undefined,
    undefined,
    contentKey,
  );
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.failure));
  return { out, result: outcome.result };
}

/** The decoded PCM of a file (its MD5), or null when ffmpeg cannot decode it. */
function decodedHash(file: string, decryptionKey?: string): string | null {
  const args = [
    "-v",
    "error",
    ...(decryptionKey ? ["-decryption_key", decryptionKey] : []),
    "-i",
    file,
    "-f",
    "md5",
    "-",
  ];
  const ran = spawnSync("ffmpeg", args, { encoding: "utf8" });
  return ran.status === 0 ? ran.stdout.trim() : null;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "encryption-"));
  const source = path.join(dir, "song.flac");
  makeMusic(source, 14);
  clear = await run(source, null);
  encrypted = await run(source, key);
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("encrypted renditions", () => {
  it.each(RENDITIONS.map((r) => r.id))(
    "%s decodes to the clear rendition's audio with the key, and not without it or with a wrong one",
    async (id) => {
      const file = path.join(encrypted.out, id, "media.mp4");
      const expected = decodedHash(path.join(clear.out, id, "media.mp4"));
      expect(expected).toMatch(/^MD5=/);
      expect(decodedHash(file, key.key)).toBe(expected);
      expect(decodedHash(file)).not.toBe(expected);
      expect(decodedHash(file, randomBytes(16).toString("hex"))).not.toBe(expected);
      // The encrypted file names cbcs and carries no pssh box (DRM systems sign in manifests).
      const bytes = await readFile(file);
      expect(bytes.includes(Buffer.from("cbcs"))).toBe(true);
      expect(bytes.includes(Buffer.from("pssh"))).toBe(false);
      expect(bytes.includes(Buffer.from(key.key, "hex"))).toBe(false);
      // cbcs costs under 1 % in size (no per-sample IVs).
      const growth =
        (await stat(file)).size / (await stat(path.join(clear.out, id, "media.mp4"))).size;
      expect(growth).toBeLessThan(1.01);
    },
    60_000,
  );

  it("keeps the analysis of the clear audio and names the key id, never the key", () => {
    expect(encrypted.result.protection).toEqual({ scheme: "cbcs", keyId: key.keyId });
    expect(clear.result.protection).toBeNull();
    expect(encrypted.result.loudness).toEqual(clear.result.loudness);
    expect(encrypted.result.fingerprint).toBe(clear.result.fingerprint);
    expect(JSON.stringify(encrypted.result)).not.toContain(key.key);
  });

  it("signals the key in every HLS media playlist and in the MPD, with byte ranges of the encrypted files", async () => {
    for (const r of RENDITIONS) {
      const playlist = await readFile(path.join(encrypted.out, r.id, "index.m3u8"), "utf8");
      expect(playlist).toContain(
        `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,${Buffer.from(key.keyId, "hex").toString("base64")}",KEYID=0x${key.keyId},KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"`,
      );
      const layout = await readFmp4Layout(path.join(encrypted.out, r.id, "media.mp4"));
      const first = layout.fragments[0];
      expect(first).toBeDefined();
      expect(playlist).toContain(`#EXT-X-BYTERANGE:${first?.length}@${first?.offset}`);
      expect(Math.abs(layout.durationSeconds - 14)).toBeLessThan(0.1);
    }
    const mpd = await readFile(path.join(encrypted.out, "manifest.mpd"), "utf8");
    expect(mpd).toContain(`cenc:default_KID="${keyIdToUuid(key.keyId)}"`);
    expect(mpd).toContain('urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"');
    expect(mpd).not.toContain("1077efec");
    const clearPlaylist = await readFile(path.join(clear.out, "aac_128", "index.m3u8"), "utf8");
    expect(clearPlaylist).not.toContain("#EXT-X-KEY");
  });

  it.each(RENDITIONS.map((r) => r.id))(
    "%s decrypts as a stream (for downloads) into a clear file of the same length that plays without a key",
    async (id) => {
      const file = path.join(encrypted.out, id, "media.mp4");
      const bytes = await readFile(file);
      // Small chunks, so boxes and fragments straddle reads.
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 1000)
            controller.enqueue(new Uint8Array(bytes.subarray(at, at + 1000)));
          controller.close();
        },
      });
      const out = new Uint8Array(
        await new Response(decryptCbcsStream(source, key.key)).arrayBuffer(),
      );
      expect(out.length).toBe(bytes.length);
      const clearFile = path.join(encrypted.out, id, "download.mp4");
      await writeFile(clearFile, out);
      expect(decodedHash(clearFile)).toBe(decodedHash(path.join(clear.out, id, "media.mp4")));
      expect(Buffer.from(out).includes(Buffer.from("enca"))).toBe(false);
      // A wrong key gives a file that does not decode to the track.
      const wrong = new Uint8Array(
        await new Response(
          decryptCbcsStream(
            new Response(bytes).body as ReadableStream<Uint8Array>,
            randomBytes(16).toString("hex"),
          ),
        ).arrayBuffer(),
      );
      const wrongFile = path.join(encrypted.out, id, "wrong.mp4");
      await writeFile(wrongFile, wrong);
      expect(decodedHash(wrongFile)).not.toBe(decodedHash(path.join(clear.out, id, "media.mp4")));
    },
    60_000,
  );

  it("leaves no key file behind in the output folder", async () => {
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(encrypted.out)).filter((f) => f.endsWith(".flags"))).toEqual([]);
  });
});
