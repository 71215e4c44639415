/**
 * Content protection end to end: uploads are encrypted (cbcs) on their way to R2, the web
 * player plays them in Chromium through hls.js and dash.js with keys from the license
 * endpoint, the decoded audio is the track, and every way around the license plays nothing.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page, Route } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PlaybackGrant } from "@edge-music/core/api-contract";
import { keyIdToBase64Url } from "@edge-music/core/content-protection";
import { makeMusic, makeReferenceTone } from "@edge-music/testkit/lavfi-media";
import { ROOT } from "../../scripts/lib/setup.mjs";
import { SCREENSHOTS, launchChromium } from "./browser";
import { apiCall, registerAccount, sendUpload, untilProcessed } from "./client";
import { startStack, type Stack } from "./stack";

const TONE_HZ = 1000;
const TONE_TITLE = `Locked Tone ${Date.now().toString(36)}`;
const OTHER_TITLE = `Locked Chord ${Date.now().toString(36)}`;
const LISTENER = { email: `cp-${Date.now()}@example.com`, password: "a long enough password" };

let stack: Stack;
let browser: Browser;
let page: Page;
let dir: string;
let artistToken: string;
const ARTIST_EMAIL = `cp-artist-${Date.now()}@example.com`;
let listenerToken: string;
let toneTrack: string;
let otherTrack: string;
let toneSource: string;

type Tap = { peakHz: number; peakDb: number; time: number; error: string };

/**
 * Before the app runs: every media element source the app makes also feeds an analyser, so
 * the test hears what the browser decoded (the app's own Web Audio chain is untouched).
 */
const INSTALL_TAP = () => {
  const g = globalThis as unknown as {
    AudioContext: { prototype: Record<string, unknown> };
    __tap?: unknown;
  };
  const proto = g.AudioContext.prototype;
  const original = proto["createMediaElementSource"] as (this: unknown, el: unknown) => unknown;
  proto["createMediaElementSource"] = function (this: unknown, el: unknown) {
    const source = original.call(this, el) as { connect(n: unknown): unknown };
    const analyser = (this as { createAnalyser(): { fftSize: number } }).createAnalyser();
    analyser.fftSize = 8192;
    source.connect(analyser);
    g.__tap = analyser;
    return source;
  };
};

/** What the analyser hears now: the loudest frequency and its level, and the clock. */
const listen = () =>
  page.evaluate((): Tap => {
    const g = globalThis as unknown as {
      __tap?: {
        frequencyBinCount: number;
        fftSize: number;
        context: { sampleRate: number };
        getFloatFrequencyData(a: Float32Array): void;
      };
      document: {
        querySelector(s: string): { currentTime: number; textContent: string | null } | null;
      };
    };
    const a = g.document.querySelector("audio");
    const error = g.document.querySelector(".player-error")?.textContent ?? "";
    const tap = g.__tap;
    if (!tap) return { peakHz: 0, peakDb: -Infinity, time: a?.currentTime ?? 0, error };
    const bins = new Float32Array(tap.frequencyBinCount);
    tap.getFloatFrequencyData(bins);
    let peak = 0;
    for (let i = 1; i < bins.length; i++)
      if ((bins[i] ?? -Infinity) > (bins[peak] ?? -Infinity)) peak = i;
    return {
      peakHz: (peak * tap.context.sampleRate) / tap.fftSize,
      peakDb: bins[peak] ?? -Infinity,
      time: a?.currentTime ?? 0,
      error,
    };
  });

/** How long a refusal is listened to: the tone plays within 2 s when it plays at all. */
const NOTHING_SECONDS = 5;

const isTone = (t: Tap) => Math.abs(t.peakHz - TONE_HZ) < 15 && t.peakDb > -70;

/** Listens for `seconds`; true as soon as the tone is heard with the clock past 1 s. */
async function heardTone(seconds: number): Promise<{ heard: boolean; last: Tap }> {
  const deadline = Date.now() + seconds * 1000;
  let last = await listen();
  while (Date.now() < deadline) {
    last = await listen();
    if (last.time > 1 && isTone(last)) return { heard: true, last };
    await page.waitForTimeout(250);
  }
  return { heard: false, last };
}

/** The next answer of the license endpoint (its status). */
const nextLicenseStatus = () =>
  page
    .waitForResponse((r) => r.url().endsWith("/v1/licenses/clearkey"), { timeout: 15_000 })
    .then((r) => r.status());

async function playTone(format: "hls" | "dash", title = TONE_TITLE) {
  await page.goto(`${stack.api}/#/search?q=${encodeURIComponent(title)}`);
  await page.getByLabel("Stream format").selectOption(format);
  await page.getByRole("button", { name: `Play ${title}` }).click();
}

/** Routes license requests through `handler` for the length of `body`. */
async function withLicenseRoute(
  handler: (route: Route) => Promise<void>,
  body: () => Promise<void>,
): Promise<void> {
  const pattern = `${stack.api}/v1/licenses/clearkey`;
  await page.route(pattern, handler);
  try {
    await body();
  } finally {
    await page.unroute(pattern, handler);
  }
}

const grantFor = (trackId: string, token = listenerToken) =>
  apiCall<PlaybackGrant>(stack, token, "POST", `/v1/tracks/${trackId}/playback`, {});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cp-e2e-"));
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
  await registerAccount(stack, ARTIST_EMAIL, "CP Artist");
  // An admin manages the catalog (the visibility test changes a track).
  stack.grantAdmin(ARTIST_EMAIL);
  artistToken = (
    await apiCall<{ accessToken: string }>(stack, undefined, "POST", "/v1/auth/login", {
      email: ARTIST_EMAIL,
      password: "correct horse battery",
    })
  ).accessToken;
  toneSource = path.join(dir, "tone.flac");
  makeReferenceTone(toneSource, 30);
  const other = path.join(dir, "chord.flac");
  makeMusic(other, 20);
  const uploads = await Promise.all([
    sendUpload(stack, artistToken, toneSource, { title: TONE_TITLE, visibility: "public" }),
    sendUpload(stack, artistToken, other, { title: OTHER_TITLE, visibility: "public" }),
  ]);
  const [tone, chord] = await Promise.all(
    uploads.map((id) => untilProcessed(stack, artistToken, id)),
  );
  toneTrack = tone?.trackId ?? "";
  otherTrack = chord?.trackId ?? "";
  expect(toneTrack).not.toBe("");
  expect(otherTrack).not.toBe("");
  page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message, e.stack));
  await page.addInitScript(INSTALL_TAP);
  await page.goto(`${stack.api}/#/signup`);
  await page.getByLabel("Your name").fill("Locked Listener");
  await page.getByLabel("Email").fill(LISTENER.email);
  await page.getByLabel("Password").fill(LISTENER.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("link", { name: "Library" }).waitFor();
  listenerToken = (
    await apiCall<{ accessToken: string }>(stack, undefined, "POST", "/v1/auth/login", LISTENER)
  ).accessToken;
}, 240_000);

afterEach(async ({ task }) => {
  if (task.result?.state === "fail") {
    await page
      ?.screenshot({ path: path.join(SCREENSHOTS, `failed-cp-${task.name.slice(0, 40)}.png`) })
      .catch(() => undefined);
  }
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("encrypted media on R2", () => {
  it("is cbcs: ffmpeg cannot decode a rendition without the key, and decodes it to the source with it", async () => {
    const grant = await grantFor(toneTrack);
    expect(grant.protection).toMatchObject({ scheme: "cbcs", keySystem: "org.w3.clearkey" });
    const keyId = grant.protection?.keyId ?? "";
    const res = await fetch(`${stack.api}/v1/licenses/clearkey`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${listenerToken}`,
        "X-Playback-Token": grant.token,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ kids: [keyIdToBase64Url(keyId)], type: "temporary" }),
    });
    expect(res.status).toBe(200);
    const license = (await res.json()) as { keys: { kid: string; k: string }[] };
    const key = Buffer.from(license.keys[0]?.k ?? "", "base64url").toString("hex");
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    // The free plan's best rendition, as the gate serves it from R2.
    const media = await fetch(grant.hls.replace("master.m3u8", "aac_128/media.mp4"));
    expect(media.status).toBe(200);
    const file = path.join(dir, "served.mp4");
    await writeFile(file, Buffer.from(await media.arrayBuffer()));
    const decode = (extra: string[]) =>
      spawnSync(
        "ffmpeg",
        ["-v", "error", ...extra, "-i", file, "-af", "astats=metadata=1", "-f", "null", "-"],
        { encoding: "utf8" },
      );
    // Without the key: the decoder fails on the encrypted samples.
    const without = decode([]);
    expect(without.status !== 0 || /Error|error|Invalid/.test(without.stderr)).toBe(true);
    // A wrong key: the same.
    const wrong = decode(["-decryption_key", randomBytes(16).toString("hex")]);
    expect(wrong.status !== 0 || /Error|error|Invalid/.test(wrong.stderr)).toBe(true);
    // With the key: clean audio whose spectrum peaks at the source's 1 kHz.
    const spectrum = spawnSync(
      "ffmpeg",
      [
        "-v",
        "info",
        "-decryption_key",
        key,
        "-i",
        file,
        "-af",
        `bandpass=f=${TONE_HZ}:width_type=q:w=20,volumedetect`,
        "-f",
        "null",
        "-",
      ],
      { encoding: "utf8" },
    );
    expect(spectrum.status, spectrum.stderr).toBe(0);
    const bandDb = Number(/mean_volume: (-?[\d.]+) dB/.exec(spectrum.stderr)?.[1]);
    const whole = spawnSync(
      "ffmpeg",
      ["-v", "info", "-decryption_key", key, "-i", file, "-af", "volumedetect", "-f", "null", "-"],
      { encoding: "utf8" },
    );
    const wholeDb = Number(/mean_volume: (-?[\d.]+) dB/.exec(whole.stderr)?.[1]);
    // Nearly all of the energy sits at 1 kHz, as in the source tone.
    expect(wholeDb - bandDb).toBeLessThan(1);
    expect(wholeDb).toBeGreaterThan(-30);
  });
});

describe("Premium downloads of encrypted media", () => {
  it("are ordinary files: the lossless download decodes, with no key, to the uploaded audio", async () => {
    const me = await apiCall<{ id: string }>(stack, listenerToken, "GET", "/v1/me");
    await apiCall(stack, artistToken, "PUT", `/v1/users/${me.id}/plan`, { plan: "premium" });
    try {
      const grant = await apiCall<{ url: string }>(
        stack,
        listenerToken,
        "POST",
        `/v1/tracks/${toneTrack}/download`,
        { rendition: "flac" },
      );
      expect(grant.url.startsWith(`${stack.api}/v1/downloads/`)).toBe(true);
      const res = await fetch(grant.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Disposition")).toContain(`${TONE_TITLE}.m4a`);
      const file = path.join(dir, "download.m4a");
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      const pcm = (input: string) =>
        spawnSync("ffmpeg", ["-v", "error", "-i", input, "-f", "s16le", "-"], {
          maxBuffer: 64 * 1024 * 1024,
        });
      const downloaded = pcm(file);
      expect(downloaded.status, downloaded.stderr.toString()).toBe(0);
      expect(downloaded.stdout.equals(pcm(toneSource).stdout)).toBe(true);
      // What R2 holds for the same rendition stays encrypted: it does not decode to that audio.
      const stored = await fetch(
        (await grantFor(toneTrack)).hls.replace("master.m3u8", "flac/media.mp4"),
      );
      expect(stored.status).toBe(200);
      const storedFile = path.join(dir, "stored.mp4");
      await writeFile(storedFile, Buffer.from(await stored.arrayBuffer()));
      expect(pcm(storedFile).stdout.equals(pcm(toneSource).stdout)).toBe(false);
    } finally {
      await apiCall(stack, artistToken, "PUT", `/v1/users/${me.id}/plan`, { plan: "free" });
    }
  });
});

describe("the web player with encrypted media, in chromium", () => {
  it("plays encrypted HLS through hls.js, and the decoded audio is the track", async () => {
    await playTone("hls");
    const { heard, last } = await heardTone(30);
    expect(heard, JSON.stringify(last)).toBe(true);
    expect(last.error).toBe("");
    await page.screenshot({ path: path.join(SCREENSHOTS, "encrypted-hls.png") });
  });

  it("plays encrypted DASH through dash.js, and the decoded audio is the track", async () => {
    await playTone("dash");
    const { heard, last } = await heardTone(30);
    expect(heard, JSON.stringify(last)).toBe(true);
    expect(last.error).toBe("");
  });

  it.each(["hls", "dash"] as const)(
    "%s: plays nothing when the license request carries no grant",
    async (format) => {
      await withLicenseRoute(
        async (route) => {
          const headers = { ...route.request().headers() };
          delete headers["x-playback-token"];
          await route.continue({ headers });
        },
        async () => {
          const status = nextLicenseStatus();
          await playTone(format);
          expect(await status).toBe(403);
          const { heard, last } = await heardTone(NOTHING_SECONDS);
          expect(heard, JSON.stringify(last)).toBe(false);
          expect(last.time).toBeLessThan(0.5);
        },
      );
    },
  );

  it("plays nothing with a grant for another track", async () => {
    const other = await grantFor(otherTrack);
    await withLicenseRoute(
      (route) =>
        route.continue({
          headers: { ...route.request().headers(), "x-playback-token": other.token },
        }),
      async () => {
        const status = nextLicenseStatus();
        await playTone("hls");
        expect(await status).toBe(404);
        const { heard, last } = await heardTone(NOTHING_SECONDS);
        expect(heard, JSON.stringify(last)).toBe(false);
        expect(last.time).toBeLessThan(0.5);
      },
    );
  });

  it("plays nothing once the track is made private, even with a grant from before", async () => {
    let madePrivate = false;
    await withLicenseRoute(
      async (route) => {
        // The grant is already in the player's hands; the track turns private before its key.
        if (!madePrivate) {
          await apiCall(stack, artistToken, "PATCH", `/v1/tracks/${toneTrack}`, {
            visibility: "private",
          });
          madePrivate = true;
        }
        await route.continue();
      },
      async () => {
        const status = nextLicenseStatus();
        await playTone("hls");
        expect(await status).toBe(404);
        const { heard, last } = await heardTone(NOTHING_SECONDS);
        expect(madePrivate).toBe(true);
        expect(heard, JSON.stringify(last)).toBe(false);
        expect(last.time).toBeLessThan(0.5);
      },
    );
    await apiCall(stack, artistToken, "PATCH", `/v1/tracks/${toneTrack}`, {
      visibility: "public",
    });
  });

  it("plays nothing with a wrong key in the license", async () => {
    let wrongKeys = 0;
    await withLicenseRoute(
      async (route) => {
        const res = await route.fetch();
        expect(res.status()).toBe(200);
        wrongKeys++;
        const license = (await res.json()) as { keys: { k: string }[] };
        for (const k of license.keys) k.k = randomBytes(16).toString("base64url");
        await route.fulfill({ response: res, json: license });
      },
      async () => {
        await playTone("hls");
        const { heard, last } = await heardTone(NOTHING_SECONDS);
        expect(wrongKeys).toBeGreaterThan(0);
        expect(heard, JSON.stringify(last)).toBe(false);
      },
    );
  });

  it("plays nothing when the key lines are taken out of the manifests", async () => {
    let stripped = 0;
    const strip = (pattern: RegExp) => async (route: Route) => {
      const res = await route.fetch();
      const before = await res.text();
      const text = before.replace(pattern, "");
      if (text !== before) stripped++;
      await route.fulfill({ response: res, body: text });
    };
    const playlists = `${stack.gate}/p/*/*/index.m3u8`;
    const mpd = `${stack.gate}/p/*/manifest.mpd`;
    const hls = strip(/^#EXT-X-KEY:.*\n/gm);
    const dash = strip(/<ContentProtection [^>]*\/>\n?/g);
    await page.route(playlists, hls);
    await page.route(mpd, dash);
    try {
      for (const format of ["hls", "dash"] as const) {
        await playTone(format);
        const { heard, last } = await heardTone(NOTHING_SECONDS);
        expect(heard, `${format}: ${JSON.stringify(last)}`).toBe(false);
      }
      // Both the HLS media playlist and the MPD lost their key lines.
      expect(stripped).toBeGreaterThanOrEqual(2);
    } finally {
      await page.unroute(playlists, hls);
      await page.unroute(mpd, dash);
    }
  });

  it("says in words that a browser without ClearKey (Safari) cannot play encrypted tracks", async () => {
    const safari = await browser.newPage();
    try {
      // As Safari answers: no ClearKey for this media.
      await safari.addInitScript(() => {
        const nav = (globalThis as unknown as { navigator: Record<string, unknown> }).navigator;
        nav["requestMediaKeySystemAccess"] = () =>
          Promise.reject(new Error("NotSupportedError: no such key system"));
      });
      await safari.goto(`${stack.api}/#/signin`);
      await safari.getByLabel("Email").fill(LISTENER.email);
      await safari.getByLabel("Password").fill(LISTENER.password);
      await safari.getByRole("button", { name: "Sign in" }).click();
      await safari.getByRole("link", { name: "Library" }).waitFor();
      await safari.goto(`${stack.api}/#/search?q=${encodeURIComponent(TONE_TITLE)}`);
      await safari.getByRole("button", { name: `Play ${TONE_TITLE}` }).click();
      await expect
        .poll(() => safari.locator(".player-error").textContent())
        .toMatch(/^This browser cannot play this track: its music is encrypted.*FairPlay/);
      await safari.screenshot({ path: path.join(SCREENSHOTS, "no-clearkey.png") });
    } finally {
      await safari.close();
    }
  });

  it("still plays after all that, with nothing routed", async () => {
    await playTone("hls");
    const { heard, last } = await heardTone(30);
    expect(heard, JSON.stringify(last)).toBe(true);
  });
});

describe("re-packaging the catalog published before content protection", () => {
  it("encrypts a clear track as a new version: same id, likes and playlists, old files gone, plays in chromium", async () => {
    await stack.restartApi({ CONTENT_PROTECTION: "off" });
    const title = `Clear Tone ${Date.now().toString(36)}`;
    const uploadId = await sendUpload(stack, artistToken, toneSource, {
      title,
      visibility: "public",
    });
    const trackId = (await untilProcessed(stack, artistToken, uploadId)).trackId ?? "";
    const before = await grantFor(trackId);
    expect(before.protection).toBeNull();
    const oldMedia = before.hls.replace("master.m3u8", "aac_128/media.mp4");
    expect((await fetch(oldMedia)).status).toBe(200);
    await apiCall(stack, listenerToken, "PUT", `/v1/me/likes/track/${trackId}`);
    const playlist = await apiCall<{ id: string }>(stack, listenerToken, "POST", "/v1/playlists", {
      title: "Kept across re-packaging",
    });
    await apiCall(stack, listenerToken, "POST", `/v1/playlists/${playlist.id}/tracks`, {
      trackIds: [trackId],
    });

    await stack.restartApi({ CONTENT_PROTECTION: "cbcs" });
    // Not spawnSync: the transcoder runs in this process and must go on answering meanwhile.
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(process.execPath, ["scripts/repackage.mjs", "--api", stack.api], {
          cwd: ROOT,
          env: {
            ...process.env,
            EDGE_MUSIC_ADMIN_EMAIL: ARTIST_EMAIL,
            EDGE_MUSIC_ADMIN_PASSWORD: "correct horse battery",
          },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("every published track is encrypted");

    const after = await grantFor(trackId);
    expect(after.protection).toMatchObject({ scheme: "cbcs" });
    expect(after.durationMs).toBe(before.durationMs);
    expect(after.loudness).toEqual(before.loudness);
    // The old version's clear files are gone, even for a token that is still valid.
    expect([403, 404, 410]).toContain((await fetch(oldMedia)).status);
    const likes = await apiCall<{ items: unknown[] }>(
      stack,
      listenerToken,
      "GET",
      "/v1/me/likes?type=track",
    );
    expect(JSON.stringify(likes.items)).toContain(trackId);
    const items = await apiCall<unknown>(
      stack,
      listenerToken,
      "GET",
      `/v1/playlists/${playlist.id}`,
    );
    expect(JSON.stringify(items)).toContain(trackId);
    // And it plays, decrypted, in the browser.
    await playTone("hls", title);
    const { heard, last } = await heardTone(30);
    expect(heard, JSON.stringify(last)).toBe(true);
  });
});
