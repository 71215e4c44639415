import { createRequire } from "node:module";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { runProcess, type ProcessResult } from "../run-process.js";

/** A content key for one asset version: key id and key, 32 hex digits each. */
export type ContentKey = { keyId: string; key: string };

/**
 * Shaka Packager's binary: `SHAKA_PACKAGER` in the container image, else the static binary
 * the `shaka-packager` npm package carries for this platform.
 */
export function packagerPath(): string {
  const configured = process.env.SHAKA_PACKAGER;
  if (configured) return configured;
  const names = new Map([
    ["linux-x64", "packager-linux-x64"],
    ["linux-arm64", "packager-linux-arm64"],
    ["darwin-x64", "packager-osx-x64"],
    ["darwin-arm64", "packager-osx-arm64"],
  ]);
  const name = names.get(`${process.platform}-${process.arch}`);
  if (!name) throw new Error(`no Shaka Packager binary for ${process.platform}-${process.arch}`);
  const pkg = createRequire(import.meta.url).resolve("shaka-packager/package.json");
  return path.join(path.dirname(pkg), "bin", name);
}

/**
 * The flags that hold the key, for a 0600 `--flagfile`: keys never appear in the process list.
 * cbcs with no clear lead (the default leaves 5 s clear) and no pssh in the media, so real DRM
 * systems later add signalling to manifests, never to files.
 */
export function encryptionFlags(key: ContentKey): string {
  return [
    "--enable_raw_key_encryption",
    // An empty label applies the key to every stream.
    `--keys=label=:key_id=${key.keyId}:key=${key.key}`,
    "--protection_scheme=cbcs",
    "--clear_lead=0",
    "--protection_systems=CommonSystem",
    "--mp4_include_pssh_in_stream=false",
    "",
  ].join("\n");
}

/** Packager arguments: one stream per rendition, each written to its own single CMAF file. */
export function packagerArgs(
  files: { input: string; output: string }[],
  flagFile: string,
  fragmentSeconds: number,
): string[] {
  return [
    ...files.map((f) => `in=${f.input},stream=audio,output=${f.output}`),
    `--segment_duration=${fragmentSeconds}`,
    `--flagfile=${flagFile}`,
    "--quiet",
  ];
}

/**
 * Encrypts each clear fMP4 in `mediaFiles` in place (one packager run for all of them, one
 * thread per stream): the audio is not decoded or encoded again. The key's flag file lives in
 * `scratchDir` only while the packager runs.
 */
export async function encryptInPlace(
  mediaFiles: string[],
  key: ContentKey,
  scratchDir: string,
  fragmentSeconds: number,
  signal?: AbortSignal,
  flagFileName = "packager.flags",
): Promise<ProcessResult> {
  const flagFile = path.join(scratchDir, flagFileName);
  const files = mediaFiles.map((input) => ({ input, output: `${input}.cbcs.mp4` }));
  await writeFile(flagFile, encryptionFlags(key), { mode: 0o600 });
  let result: ProcessResult;
  try {
    result = await runProcess(
      packagerPath(),
      packagerArgs(files, flagFile, fragmentSeconds),
      signal ? { signal } : {},
    );
  } finally {
    await rm(flagFile, { force: true });
  }
  if (result.ok) for (const f of files) await rename(f.output, f.input);
  return result;
}
