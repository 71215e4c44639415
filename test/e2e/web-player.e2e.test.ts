import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeMusic } from "@edge-music/testkit/lavfi-media";
import { SCREENSHOTS, launchChromium } from "./browser";
import { startStack, type Stack } from "./stack";

/** Long enough for 30 s of counted playing after a seek back. */
const TRACK_SECONDS = 48;
const TITLE = `Browser Song ${Date.now().toString(36)}`;
const IN_FLIGHT_MAX = 3;
const FAN = { email: `fan-${Date.now()}@example.com`, password: "a long enough password" };

let stack: Stack;
let browser: Browser;
let page: Page;
let dir: string;

const shot = (name: string) =>
  page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

type AudioState = { currentTime: number; paused: boolean; src: string };
type Condition = { after?: number; before?: number; playing?: boolean; mse?: boolean };

/** The page's audio element; typed here because this project's types are not the DOM's. */
const audio = () =>
  page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): AudioState } })
      .document;
    const a = doc.querySelector("audio");
    return { time: a.currentTime, paused: a.paused };
  });

/** Waits until the audio element meets `c` (a function, not a string: the CSP forbids eval). */
const audioUntil = (c: Condition, timeout = 30_000) =>
  page.waitForFunction(
    (c: Condition) => {
      const doc = (
        globalThis as unknown as { document: { querySelector(s: string): AudioState | null } }
      ).document;
      const a = doc.querySelector("audio");
      return (
        !!a &&
        a.currentTime > (c.after ?? -1) &&
        a.currentTime < (c.before ?? Infinity) &&
        (!c.playing || !a.paused) &&
        (!c.mse || a.src.startsWith("blob:"))
      );
    },
    c,
    { timeout },
  );

/** Runs `body` with the page's network slowed through the DevTools protocol (bytes/s, -1: as is). */
async function throttled(
  conditions: { latency: number; down: number; up: number },
  body: () => Promise<void>,
): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const set = (latency: number, down: number, up: number) =>
    cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency,
      downloadThroughput: down,
      uploadThroughput: up,
    });
  await set(conditions.latency, conditions.down, conditions.up);
  try {
    await body();
  } finally {
    await set(0, -1, -1);
    await cdp.detach();
  }
}

/** The signed-up listener's access token, for calling the api beside the browser. */
async function fanToken(): Promise<string> {
  const res = await fetch(`${stack.api}/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(FAN),
  });
  return ((await res.json()) as { accessToken: string }).accessToken;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "web-e2e-"));
  // A small limit of uploads in progress, so the album test can reach it.
  [stack, browser] = await Promise.all([
    startStack({ vars: { UPLOADS_IN_FLIGHT_MAX: String(IN_FLIGHT_MAX) } }),
    launchChromium(),
  ]);
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on("pageerror", (e) => console.error("page error:", e.message));
}, 180_000);

afterEach(async ({ task }) => {
  if (task.result?.state === "fail")
    await shot(`failed-${task.name.slice(0, 40)}`).catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the web player, in chromium", () => {
  it("signs up a new listener", async () => {
    await page.goto(`${stack.api}/#/signup`);
    await shot("signup");
    await page.getByLabel("Your name").fill("Browser Fan");
    await page.getByLabel("Email").fill(FAN.email);
    await page.getByLabel("Password").fill(FAN.password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("link", { name: "Library" }).waitFor();
    await shot("home");
  });

  it("uploads a generated file and shows it becoming ready", async () => {
    const file = path.join(dir, "song.flac");
    makeMusic(file, TRACK_SECONDS, { tags: { title: TITLE, artist: "Browser Band" } });
    await page.getByRole("link", { name: "Upload" }).click();
    await page.getByLabel("Who can listen").selectOption("public");
    await page.locator("#file-picker").setInputFiles(file);
    const row = page.locator("li.upload");
    await row.locator("progress").waitFor();
    await page
      .locator('li.upload[data-state="processing"], li.upload[data-state="ready"]')
      .first()
      .waitFor({ timeout: 60_000 });
    await shot("upload-processing");
    await page.locator('li.upload[data-state="ready"]').waitFor({ timeout: 90_000 });
    expect(await row.locator(".status").textContent()).toContain("Ready");
    await shot("upload-ready");
  });

  it("queues an album's files beyond the limit of uploads in progress instead of refusing them", async () => {
    const accessToken = await fanToken();
    const call = (method: string, route: string, body?: unknown) =>
      fetch(`${stack.api}${route}`, {
        method,
        headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
        body: body ? JSON.stringify(body) : null,
      });
    // Uploads asked for elsewhere (another tab) fill the account's limit.
    const others: string[] = [];
    for (let i = 0; i < IN_FLIGHT_MAX; i++) {
      const res = await call("POST", "/v1/uploads", {
        filename: `other-${i}.flac`,
        contentType: "audio/flac",
        size: 1000,
      });
      expect(res.status).toBe(201);
      others.push(((await res.json()) as { uploadId: string }).uploadId);
    }
    const file = path.join(dir, "album-track.flac");
    makeMusic(file, 4, { tags: { title: "Queued Album Track" } });
    await page.locator("#file-picker").setInputFiles(file);
    const row = page.locator("li.upload", { hasText: "album-track.flac" });
    await row.locator(".status", { hasText: "Waiting" }).waitFor();
    expect(await row.getAttribute("data-state")).toBe("waiting");
    await shot("upload-waiting");
    // One of the others is cancelled: the waiting file goes by itself, and becomes ready.
    expect((await call("DELETE", `/v1/uploads/${others.pop()}`)).status).toBe(204);
    await page
      .locator('li.upload[data-state="ready"]', { hasText: "album-track.flac" })
      .waitFor({ timeout: 60_000 });
    for (const id of others) await call("DELETE", `/v1/uploads/${id}`);
  });

  it("finds it with suggestions, plays it, and seeks by clicking the waveform", async () => {
    await page.getByRole("link", { name: "Search" }).click();
    await page.getByLabel("Search").pressSequentially(TITLE.slice(0, 9), { delay: 30 });
    await page.locator(".suggestions li", { hasText: TITLE }).first().waitFor();
    await shot("search-suggestions");
    await page.getByLabel("Search").fill(TITLE);
    await page.getByLabel("Search").press("Enter");
    await page.getByRole("button", { name: `Play ${TITLE}` }).click();
    await audioUntil({ playing: true, after: 1.5 });
    const first = await audio();
    await page.waitForTimeout(1000);
    const later = await audio();
    expect(later.paused).toBe(false);
    expect(later.time).toBeGreaterThan(first.time);
    expect(await page.locator(".player").getAttribute("data-gain-db")).toMatch(/^-?\d+\.\d\d$/);
    // A click at 60 % of the waveform lands near 60 % of the track.
    const box = await page.locator("canvas.waveform").boundingBox();
    if (!box) throw new Error("no waveform on the page");
    await page.mouse.click(box.x + box.width * 0.6, box.y + box.height / 2);
    await audioUntil({ after: TRACK_SECONDS * 0.55 });
    await shot("playing");
    // And back to the start, so 30 s of playing remain.
    await page.mouse.click(box.x + 2, box.y + box.height / 2);
    await audioUntil({ before: 3 });
  });

  it("adds it to a new playlist", async () => {
    await page.getByRole("link", { name: "Library" }).click();
    await page.getByLabel("New playlist title").fill("Browser mix");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "Browser mix" }).waitFor();
    await page.getByRole("link", { name: "Library" }).click();
    const add = page.getByLabel(`Add ${TITLE} to a playlist`).first();
    await add.focus();
    await expect.poll(() => add.locator("option").count()).toBeGreaterThan(1);
    await add.selectOption({ label: "Browser mix" });
    await page.getByText(`Added ${TITLE}.`).waitFor();
    await page.getByRole("link", { name: "Browser mix" }).click();
    await page.locator(".playlist li", { hasText: TITLE }).waitFor();
    await shot("playlist");
  });

  it("counts a stream after 30 s of playing and shows it in the studio, as an own play", async () => {
    // Playing went on in the player bar while the other pages were used.
    await audioUntil({ after: 33 }, 60_000);
    await page.getByRole("link", { name: "Studio" }).click();
    const total = page.locator(".stats li", { hasText: TITLE }).locator(".total");
    // The uploader played their own track: counted, but it bears no royalty.
    await expect
      .poll(
        async () => {
          await page.getByRole("link", { name: "Home" }).click();
          await page.getByRole("link", { name: "Studio" }).click();
          return total.getAttribute("data-excluded", { timeout: 5000 }).catch(() => null);
        },
        { timeout: 40_000, interval: 3000 },
      )
      .toBe("1");
    expect(await total.getAttribute("data-streams")).toBe("0");
    const report = page.locator(".report tr", { hasText: TITLE });
    await expect.poll(() => report.locator("td").nth(2).textContent()).toBe("0");
    expect(await report.locator("td").nth(3).textContent()).toBe("1 own play");
    await shot("studio");
  });

  it("moves to a lower rendition when the network slows down", async () => {
    // Unthrottled, the free plan's best rendition was playing.
    expect(await page.locator(".player").getAttribute("data-rendition")).toBe("aac_128");
    await throttled({ latency: 150, down: 10 * 1024, up: 10 * 1024 }, async () => {
      await page.getByRole("link", { name: "Library" }).click();
      await page
        .getByRole("button", { name: `Play ${TITLE}` })
        .first()
        .click();
      await page.locator('.player[data-rendition="aac_64"]').waitFor({ timeout: 60_000 });
      await shot("throttled");
    });
  });

  it("plays the same track through DASH with dash.js", async () => {
    await page.getByLabel("Stream format").selectOption("dash");
    await audioUntil({ playing: true, after: 1, mse: true });
    const first = await audio();
    await page.waitForTimeout(1000);
    expect((await audio()).time).toBeGreaterThan(first.time);
    expect(await page.locator(".player-error").textContent()).toBe("");
    await page.getByLabel("Stream format").selectOption("hls");
  });

  it("answers keys, and explains in words what the plan does not include", async () => {
    await audioUntil({ playing: true });
    await page.keyboard.press("k");
    await audioUntil({ playing: false });
    expect((await audio()).paused).toBe(true);
    await page.keyboard.press("k");
    await audioUntil({ playing: true });
    await page.getByRole("button", { name: "Download" }).click();
    await expect
      .poll(() => page.locator(".player-error").textContent())
      .toMatch(/^Your plan does not include this: /);
  });

  it("reorders a playlist by dragging", async () => {
    await page.getByRole("link", { name: "Library" }).click();
    const add = page.getByLabel(`Add ${TITLE} to a playlist`).first();
    await add.focus();
    await add.selectOption({ label: "Browser mix" });
    await page.getByText(`Added ${TITLE}.`).waitFor();
    await page.getByRole("link", { name: "Browser mix" }).click();
    const rows = page.locator(".playlist li");
    await expect.poll(() => rows.count()).toBe(2);
    const before = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-item-id")));
    await rows.nth(1).dragTo(rows.nth(0));
    await expect
      .poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-item-id"))))
      .toEqual([...before].reverse());
    await shot("playlist-reordered");
  });

  it("lists the device sessions and looks right on a phone", async () => {
    await page.getByRole("link", { name: "Browser Fan" }).click();
    await page.locator(".sessions li", { hasText: "this device" }).waitFor();
    await shot("account");
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [link, heading, name] of [
      ["Library", "Your library", "phone-library"],
      ["Search", "Search", "phone-search"],
      ["Studio", "Studio", "phone-studio"],
    ] as const) {
      await page.getByRole("link", { name: link }).click();
      await page.getByRole("heading", { name: heading, exact: true }).waitFor();
      await shot(name);
    }
    const width = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
          .document.documentElement.scrollWidth,
    );
    expect(width).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it("cancels an upload while its bytes are still on the way, leaving nothing", async () => {
    const file = path.join(dir, "slow.flac");
    makeMusic(file, 20);
    await page.getByRole("link", { name: "Upload" }).click();
    await throttled({ latency: 50, down: -1, up: 20 * 1024 }, async () => {
      await page.locator("#file-picker").setInputFiles(file);
      const row = page.locator("li.upload", { hasText: "slow.flac" });
      await row.locator(".status", { hasText: "Uploading" }).waitFor();
      const uploadId = await row.getAttribute("data-upload-id");
      await row.getByRole("button", { name: "Cancel" }).click();
      await row.locator(".status", { hasText: "Cancelled." }).waitFor();
      // The api no longer knows the upload (its row and object are gone).
      const accessToken = await fanToken();
      const res = await fetch(`${stack.api}/v1/uploads/${uploadId}`, {
        headers: { Authorization: `Bearer ${accessToken}` },
      });
      expect(res.status).toBe(404);
    });
  });

  it("takes files dropped on the drop zone", async () => {
    const file = path.join(dir, "dropped.flac");
    makeMusic(file, 3);
    const bytes = [...(await readFile(file))];
    await page.getByRole("link", { name: "Upload" }).click();
    const transfer = await page.evaluateHandle((data: number[]) => {
      const g = globalThis as unknown as {
        DataTransfer: new () => { items: { add(f: unknown): void } };
        File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
      };
      const dt = new g.DataTransfer();
      dt.items.add(new g.File([new Uint8Array(data)], "dropped.flac", { type: "audio/flac" }));
      return dt;
    }, bytes);
    await page.locator(".dropzone").dispatchEvent("drop", { dataTransfer: transfer });
    await page
      .locator('li.upload[data-state="ready"]', { hasText: "dropped.flac" })
      .waitFor({ timeout: 60_000 });
  });

  it("says in words when a track is not licensed where the listener is", async () => {
    // The admin limits the track to France; this browser is in the US (wrangler dev's cf).
    const admin = (await (
      await fetch(`${stack.api}/v1/auth/register`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          email: "admin@e2e.local",
          password: "a long enough password",
          displayName: "Admin",
        }),
      })
    ).json()) as { accessToken: string };
    stack.grantAdmin("admin@e2e.local");
    const auth = {
      Authorization: `Bearer ${admin.accessToken}`,
      "Content-Type": "application/json",
    };
    const found = (await (
      await fetch(`${stack.api}/v1/search?q=${encodeURIComponent(TITLE)}&type=track`)
    ).json()) as { items: { id: string }[] };
    const trackId = found.items[0]?.id ?? "";
    const holder = (await (
      await fetch(`${stack.api}/v1/rights-holders`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ name: "French label" }),
      })
    ).json()) as { id: string };
    const rights = await fetch(`${stack.api}/v1/tracks/${trackId}/rights`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify({
        rights: [{ territory: "FR", type: "stream", holderId: holder.id, share: 1 }],
      }),
    });
    expect(rights.status).toBe(200);
    const other = await browser.newPage();
    try {
      await other.goto(`${stack.api}/#/signup`);
      await other.getByLabel("Your name").fill("Abroad");
      await other.getByLabel("Email").fill(`abroad-${Date.now()}@example.com`);
      await other.getByLabel("Password").fill("a long enough password");
      await other.getByRole("button", { name: "Sign up" }).click();
      await other.getByRole("link", { name: "Library" }).waitFor();
      await other.goto(`${stack.api}/#/search?q=${encodeURIComponent(TITLE)}`);
      await other.getByRole("button", { name: `Play ${TITLE}` }).click();
      await expect
        .poll(() => other.locator(".player-error").textContent())
        .toMatch(/^Not available where you are: /);
      await other.screenshot({ path: path.join(SCREENSHOTS, "not-available.png") });
    } finally {
      await other.close();
    }
  });

  it("says in words why an upload failed", async () => {
    const file = path.join(dir, "not-audio.mp3");
    await writeFile(file, "these are words, not sound\n".repeat(200));
    await page.getByRole("link", { name: "Upload" }).click();
    await page.locator("#file-picker").setInputFiles(file);
    const failed = page.locator("li.upload.failed");
    await failed.waitFor({ timeout: 60_000 });
    expect(await failed.locator(".status").textContent()).toMatch(/^Failed: .*audio/i);
    await shot("upload-failed");
  });
});
