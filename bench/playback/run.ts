/**
 * `npm run bench:playback`: what content protection adds to starting a track, on the local
 * stack. (1) The ClearKey license endpoint's round trip, p50 and p95, over BENCH_LICENSES
 * requests (default 300) spread over listeners as players would; (2) in Chromium, the time
 * from pressing play (the grant request) to the first audio frames, for an encrypted and a
 * clear copy of the same 3-minute tonal track, alternating, BENCH_STARTS each (default 9).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PlaybackGrant } from "@edge-music/core/api-contract";
import { keyIdToBase64Url } from "@edge-music/core/content-protection";
import { makeMaterial } from "@edge-music/testkit/lavfi-media";
import { launchChromium } from "../../test/e2e/browser";
import { apiCall, registerAccount, sendUpload, untilProcessed } from "../../test/e2e/client";
import { startStack } from "../../test/e2e/stack";

const LICENSES = Number(process.env["BENCH_LICENSES"] ?? 300);
const STARTS = Number(process.env["BENCH_STARTS"] ?? 9);
/** Under the license limit (120 a minute per account) with room for the players' own. */
const LICENSES_PER_LISTENER = 50;

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const median = (xs: number[]) => quantile(xs, 0.5);

const work = mkdtempSync(path.join(tmpdir(), "bench-playback-"));
const source = path.join(work, "chord.flac");
makeMaterial(source, 180, "chord");
const stack = await startStack({ transcoder: "process" });
const browser = await launchChromium();
try {
  const artist = await registerAccount(stack, "artist@bench.local", "Bench Artist");
  // One encrypted copy, then one clear copy (the deployment switched off for its ingest).
  const publish = async (title: string) => {
    const id = await sendUpload(stack, artist, source, { title, visibility: "public" });
    const done = await untilProcessed(stack, artist, id);
    if (done.state !== "ready" || !done.trackId) throw new Error(`${title}: ${done.state}`);
    return done.trackId;
  };
  const encrypted = await publish("Bench Encrypted");
  await stack.restartApi({ CONTENT_PROTECTION: "off" });
  await publish("Bench Clear");
  await stack.restartApi({ CONTENT_PROTECTION: "cbcs" });

  // (1) License round trips: a fresh grant per listener, then its license asked for again and
  // again (each answer is checked, unwrapped and audited like the first).
  const listeners = Math.ceil(LICENSES / LICENSES_PER_LISTENER);
  const times: number[] = [];
  for (let l = 0; l < listeners; l++) {
    const token = await registerAccount(stack, `listener${l}@bench.local`, `Listener ${l}`);
    const grant = await apiCall<PlaybackGrant>(
      stack,
      token,
      "POST",
      `/v1/tracks/${encrypted}/playback`,
      {},
    );
    const body = JSON.stringify({ kids: [keyIdToBase64Url(grant.protection?.keyId ?? "")] });
    for (let i = 0; i < LICENSES_PER_LISTENER && times.length < LICENSES; i++) {
      const started = performance.now();
      const res = await fetch(`${stack.api}/v1/licenses/clearkey`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${token}`,
          "X-Playback-Token": grant.token,
          "Content-Type": "application/json",
        },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`license: ${res.status}`);
      times.push(performance.now() - started);
    }
  }
  console.log(
    `\nlicense endpoint, ${times.length} requests on the local stack: p50 ${median(times).toFixed(1)} ms, p95 ${quantile(times, 0.95).toFixed(1)} ms`,
  );

  // (2) Pressing play to the first audio, in Chromium, alternating encrypted and clear.
  const page = await browser.newPage();
  await page.goto(`${stack.api}/#/signup`);
  await page.getByLabel("Your name").fill("Bench Listener");
  await page.getByLabel("Email").fill("browser@bench.local");
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("link", { name: "Library" }).waitFor();
  const startup = { encrypted: [] as number[], clear: [] as number[] };
  for (let round = 0; round < STARTS * 2; round++) {
    const kind = round % 2 === 0 ? "encrypted" : "clear";
    const title = kind === "encrypted" ? "Bench Encrypted" : "Bench Clear";
    await page.goto(`${stack.api}/#/search?q=${encodeURIComponent(title)}`);
    const button = page.getByRole("button", { name: `Play ${title}` });
    await button.waitFor();
    const started = performance.now();
    await button.click();
    await page.waitForFunction(
      () => {
        const doc = (
          globalThis as unknown as {
            document: { querySelector(s: string): { currentTime: number } | null };
          }
        ).document;
        return (doc.querySelector("audio")?.currentTime ?? 0) > 0.05;
      },
      undefined,
      { polling: 10, timeout: 30_000 },
    );
    startup[kind].push(performance.now() - started);
  }
  await page.close();
  const enc = median(startup.encrypted);
  const clr = median(startup.clear);
  console.log(
    `play -> first audio in Chromium, median of ${STARTS}: encrypted ${enc.toFixed(0)} ms, clear ${clr.toFixed(0)} ms, ratio ${(enc / clr).toFixed(2)} (target <= 1.2)`,
  );
  console.log(
    `  encrypted: ${startup.encrypted.map((t) => t.toFixed(0)).join(", ")} ms\n  clear:     ${startup.clear.map((t) => t.toFixed(0)).join(", ")} ms`,
  );
} finally {
  await browser.close();
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
}
