import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { ROOT } from "../../scripts/lib/setup.mjs";

/** Debian's chromium; `npm test` installs it with apt-get when running as root. */
export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Where the browser tests leave screenshots for a person to look at. */
export const SCREENSHOTS = path.join(ROOT, "test-results/screenshots");

/**
 * Headless chromium as this machine needs it: no sandbox (root), no background networking
 * (the network is closed), and media allowed to start without a gesture. Playwright gives it
 * a fresh profile.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install it with sudo apt-get install -y chromium (npm test does, as root)`,
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}
