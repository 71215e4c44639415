// Shared by `npm start`, `npm test` and the benchmarks: install what is missing, prepare
// local secrets and the local D1 database. Plain Node, no dependencies, so it can run
// before `npm ci` has.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const STATE_DIR = path.join(ROOT, ".wrangler/state");

const say = (message) => console.log(`[setup] ${message}`);

/** `npm ci` when node_modules is missing or older than the lock file. */
export function ensureDependencies() {
  const marker = path.join(ROOT, "node_modules/.package-lock.json");
  const lock = path.join(ROOT, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say("installing npm packages (npm ci)…");
  const run = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: ROOT, stdio: "inherit" });
  if (run.status !== 0) throw new Error("npm ci failed; see the output above");
}

const WEB = path.join(ROOT, "web");

/** Newest modification time under `dir` (files only), 0 when it does not exist. */
function newestUnder(dir) {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const full = path.join(dir, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestUnder(full) : statSync(full).mtimeMs);
  }, 0);
}

/**
 * Builds the web player into web/dist (the api worker's static assets) with Vite when the
 * build is missing or older than its sources.
 */
export function ensureWebBuild() {
  const built = path.join(WEB, "dist/index.html");
  const sources = Math.max(
    newestUnder(path.join(WEB, "src")),
    newestUnder(path.join(WEB, "public")),
    statSync(path.join(WEB, "index.html")).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  say("building the web player (vite build)…");
  const run = spawnSync(
    "npx",
    ["vite", "build", "-c", path.join(WEB, "vite.config.ts"), "--logLevel", "warn"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
  if (run.status !== 0) throw new Error("vite build failed; see the output above");
}

const has = (command) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;

/**
 * Debian packages a script needs, installed with apt-get when running as root, otherwise a
 * clear message. `required: false` only warns. Returns whether the commands are there.
 */
export function ensureDebianPackages({ commands, packages, purpose, required }) {
  if (commands.every(has)) return true;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot && has("apt-get")) {
    say(`installing ${packages.join(", ")} with apt-get…`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    const install = spawnSync(
      "apt-get",
      ["install", "-y", "-qq", "--no-install-recommends", ...packages],
      { stdio: "inherit", env },
    );
    if (update.status === 0 && install.status === 0 && commands.every(has)) return true;
  }
  const message = `${commands.join(", ")} missing. Install with: sudo apt-get install -y ${packages.join(" ")}`;
  if (required) throw new Error(message);
  say(`${message} (${purpose})`);
  return false;
}

/** ffmpeg, ffprobe and fpcalc for the transcoder. */
export function ensureFfmpeg({ required }) {
  return ensureDebianPackages({
    commands: ["ffmpeg", "ffprobe", "fpcalc"],
    packages: ["ffmpeg", "libchromaprint-tools"],
    purpose: "the transcoder needs it to process uploads",
    required,
  });
}

/**
 * `.dev.vars` for `wrangler dev`: development mode, and random keys and secrets
 * made on this machine (never committed). Kept across runs so sessions survive restarts.
 */
export function ensureDevVars() {
  const file = path.join(ROOT, ".dev.vars");
  const gateFile = path.join(ROOT, "workers/stream-gate/.dev.vars");
  // Content keys are wrapped with this: generated once, then kept (losing it loses every key).
  const contentKeks = `CONTENT_KEKS=${JSON.stringify({ kek1: randomBytes(32).toString("base64url") })}`;
  if (
    existsSync(file) &&
    readFileSync(file, "utf8").includes("PLAYBACK_KEYS=") &&
    existsSync(gateFile)
  ) {
    // A checkout from before content protection: add the one missing secret, keep the rest.
    if (!readFileSync(file, "utf8").includes("CONTENT_KEKS=")) {
      appendFileSync(file, `${contentKeks}\n`);
      say("added CONTENT_KEKS to .dev.vars");
    }
    return;
  }
  // Playback tokens: minted by the api, checked by the gate, so both get the same keys.
  const playbackKeys = `PLAYBACK_KEYS=${JSON.stringify({ p1: randomBytes(32).toString("base64url") })}`;
  writeFileSync(gateFile, ["# Written by npm start. Not committed.", playbackKeys, ""].join("\n"), {
    mode: 0o600,
  });
  const keys = JSON.stringify({ k1: randomBytes(32).toString("base64url") });
  writeFileSync(
    file,
    [
      "# Local settings for wrangler dev, written by npm start. Not committed.",
      "ENVIRONMENT=development",
      `JWT_KEYS=${keys}`,
      "JWT_ACTIVE_KID=k1",
      // The dev route checks presigned URLs with this pair exactly as R2 would.
      `R2_ACCESS_KEY_ID=dev-${randomBytes(8).toString("hex")}`,
      `R2_SECRET_ACCESS_KEY=${randomBytes(24).toString("base64url")}`,
      `TRANSCODER_SECRET=${randomBytes(24).toString("base64url")}`,
      playbackKeys,
      contentKeks,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  say("wrote .dev.vars with a fresh local JWT key");
}

/** Environment for wrangler: no telemetry, no fetch of Request.cf from the internet. */
export const WRANGLER_ENV = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  NO_UPDATE_NOTIFIER: "1",
};

export function wranglerBin() {
  return path.join(ROOT, "node_modules/.bin/wrangler");
}

/** Applies D1 migrations to the local database that `wrangler dev` will use. */
export function applyLocalMigrations(persistTo = STATE_DIR) {
  say("applying D1 migrations locally…");
  execFileSync(
    wranglerBin(),
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"], env: { ...WRANGLER_ENV, CI: "true" } },
  );
}

/**
 * Polls `url` until it answers 2xx; throws after `timeoutMs` or once `abandoned()` is true.
 * A service that answers 503 naming a bad setting (a key ring that is too weak, say) will
 * not start: that reason is thrown at once.
 */
export async function waitHealthy(url, { timeoutMs = 90_000, abandoned = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (abandoned()) throw new Error("stopped");
    let misconfigured = null;
    try {
      const res = await fetch(url);
      if (res.ok) return;
      if (res.status === 503) {
        const body = await res.json().catch(() => ({}));
        misconfigured = body.code === "SERVICE_MISCONFIGURED" ? body.detail : (body.error ?? null);
      }
    } catch {
      // not listening yet
    }
    if (misconfigured) throw new Error(`${url} refuses to start: ${misconfigured}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

/**
 * `wrangler dev` as every script here runs it: on loopback, with local state in
 * `persistTo`, no interactive hotkeys, and extra vars or an env file when given.
 * @param {{ config?: string, port: number, inspectorPort: number, persistTo?: string,
 *   vars?: Record<string, string>, envFile?: string, extra?: string[] }} options
 * @returns {string[]}
 */
export function wranglerDevArgs({
  config = "wrangler.toml",
  port,
  inspectorPort,
  persistTo = STATE_DIR,
  vars = {},
  envFile,
  extra = [],
}) {
  return [
    "dev",
    "-c",
    config,
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    persistTo,
    "--inspector-port",
    String(inspectorPort),
    "--show-interactive-dev-session=false",
    ...(envFile ? ["--env-file", envFile] : []),
    ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
    ...extra,
  ];
}
