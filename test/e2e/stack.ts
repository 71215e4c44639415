import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer } from "@edge-music/transcoder/server";
import {
  ROOT,
  WRANGLER_ENV,
  applyLocalMigrations,
  ensureWebBuild,
  waitHealthy,
  wranglerBin,
  wranglerDevArgs,
} from "../../scripts/lib/setup.mjs";
import { setAdmin } from "../../scripts/lib/admin.mjs";
import { supervise } from "../../scripts/lib/supervise.mjs";

export type Stack = {
  api: string;
  gate: string;
  persistTo: string;
  /** Makes a registered account an admin, as the operator's `npm run admin -- grant` does. */
  grantAdmin: (email: string) => void;
  /** Stops the api worker only, so its storage can be opened directly. */
  stopApi: () => Promise<void>;
  /** Restarts the api worker (same state) with these settings changed. */
  restartApi: (vars: Record<string, string>) => Promise<void>;
  /** With `transcoder: "process"`, that process (supervised: killed, it comes back). */
  transcoderPid?: () => number | undefined;
  /** The api's wrangler dev process group (supervised: killed, it comes back). */
  apiPid: () => number | undefined;
  /** Runs a cron of the api, as Cloudflare's scheduler would. */
  cron: (cron: string) => Promise<void>;
  stop: () => Promise<void>;
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

export type StackOptions = {
  /**
   * "process": the transcoder runs as its own supervised process, as under `npm start` (for
   * chaos tests that kill it); default: a server in this process.
   */
  transcoder?: "in-process" | "process";
  /** Extra api variables (say, a short INGEST_LEASE_SECONDS). */
  vars?: Record<string, string>;
};

/**
 * The real local stack for end-to-end tests: the api under `wrangler dev` (workerd with
 * local D1, R2 and Queues in a fresh folder), supervised as `npm start` supervises it, and the
 * transcoder, wired together as `npm start` wires them.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const persistTo = mkdtempSync(path.join(tmpdir(), "e2e-state-"));
  const secret = randomBytes(16).toString("hex");
  let transcoderUrl: string;
  let stopTranscoder: () => Promise<void>;
  let transcoderPid: (() => number | undefined) | undefined;
  if (options.transcoder === "process") {
    const transcoderPort = await freePort();
    const service = supervise(
      "transcoder",
      () =>
        spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["containers/transcoder/src/main.ts"], {
          cwd: ROOT,
          env: {
            ...process.env,
            TRANSCODER_PORT: String(transcoderPort),
            TRANSCODER_HOST: "127.0.0.1",
            TRANSCODER_SECRET: secret,
          },
          detached: true,
          stdio: ["ignore", "ignore", "inherit"],
        }),
      { log: () => undefined },
    );
    transcoderUrl = `http://127.0.0.1:${transcoderPort}`;
    stopTranscoder = () => service.stop();
    transcoderPid = () => service.child.pid;
  } else {
    const transcoder: Server = await startServer(0, { secret, maxConcurrentJobs: 2 });
    transcoderUrl = `http://127.0.0.1:${(transcoder.address() as AddressInfo).port}`;
    stopTranscoder = () => new Promise((r) => transcoder.close(() => r()));
  }
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const gatePort = await freePort();
  const gate = `http://127.0.0.1:${gatePort}`;
  const playbackKeys = `PLAYBACK_KEYS={"p1":"${randomBytes(32).toString("base64url")}"}`;
  const gateEnvFile = path.join(persistTo, "gate.env");
  // Revocation records are trusted for 2 s instead of 30, so tests see refusals quickly.
  writeFileSync(gateEnvFile, `${playbackKeys}\nGATE_REVOCATION_MEMO_SECONDS=2\n`);
  const envFile = path.join(persistTo, "test.env");
  const vars = new Map<string, string>([
    ["ENVIRONMENT", "development"],
    ["JWT_KEYS", `{"k1":"${randomBytes(32).toString("base64url")}"}`],
    ["JWT_ACTIVE_KID", "k1"],
    ["PASSWORD_PBKDF2_ITERATIONS", "2000"],
    ["UPLOADS_IN_FLIGHT_MAX", "25"],
    ["R2_ACCESS_KEY_ID", "e2e-key"],
    ["R2_SECRET_ACCESS_KEY", randomBytes(16).toString("hex")],
    ["R2_S3_ENDPOINT", `${api}/dev/r2`],
    ["TRANSCODER_URL", transcoderUrl],
    ["TRANSCODER_SECRET", secret],
    ["GATE_ORIGIN", gate],
    ["CONTENT_KEKS", `{"kek1":"${randomBytes(32).toString("base64url")}"}`],
  ]);
  const writeVars = (more: Record<string, string>) => {
    for (const [name, value] of Object.entries(more)) vars.set(name, value);
    writeFileSync(
      envFile,
      [...[...vars].map(([name, value]) => `${name}=${value}`), playbackKeys, ""].join("\n"),
    );
  };
  writeVars(options.vars ?? {});
  applyLocalMigrations(persistTo);
  ensureWebBuild();
  const inspectorPort = await freePort();
  const apiLog = openSync(path.join(persistTo, "api.log"), "a");
  // Supervised like `npm start`'s: a runtime that dies is started again on the same state.
  const worker = supervise(
    "api",
    () =>
      spawn(
        wranglerBin(),
        [
          ...wranglerDevArgs({
            port,
            inspectorPort,
            persistTo,
            envFile,
            extra: ["--test-scheduled"],
          }),
          "--log-level",
          // E2E_API_LOG_LEVEL=log shows the worker's own log lines (written to api.log).
          process.env["E2E_API_LOG_LEVEL"] ?? "warn",
        ],
        // The worker's own log lines (stdout) go to a file beside its state, for a failing test.
        { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ["ignore", apiLog, "inherit"] },
      ),
    { log: () => undefined },
  );
  let gateWorker: ChildProcess | null = null;
  const stopGate = () => {
    try {
      if (gateWorker?.pid) process.kill(-gateWorker.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  const stopApi = () => worker.stop();
  const stop = async () => {
    stopGate();
    await stopApi();
    await stopTranscoder();
    rmSync(persistTo, { recursive: true, force: true });
  };
  try {
    // Both workers share one state folder: starting them at the same moment can hit SQLITE_BUSY.
    await waitHealthy(`${api}/healthz`);
    gateWorker = spawn(
      wranglerBin(),
      [
        ...wranglerDevArgs({
          config: "workers/stream-gate/wrangler.toml",
          port: gatePort,
          inspectorPort: await freePort(),
          persistTo,
          envFile: gateEnvFile,
        }),
        "--log-level",
        "warn",
      ],
      { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ["ignore", "ignore", "inherit"] },
    );
    await waitHealthy(`${gate}/healthz`);
  } catch (error) {
    // A stack that did not come up leaves no process behind.
    await stop();
    throw error;
  }
  return {
    api,
    gate,
    persistTo,
    grantAdmin: (email) => {
      if (!setAdmin(email, true, { persistTo })) throw new Error(`no account ${email}`);
    },
    stopApi,
    restartApi: async (more) => {
      writeVars(more);
      const pid = worker.child.pid;
      if (pid) process.kill(-pid, "SIGKILL");
      // The supervisor starts it again on the same state, now with the new settings.
      await new Promise((r) => setTimeout(r, 500));
      await waitHealthy(`${api}/healthz`);
    },
    ...(transcoderPid ? { transcoderPid } : {}),
    apiPid: () => worker.child.pid,
    cron: async (cron) => {
      const res = await fetch(`${api}/__scheduled?cron=${encodeURIComponent(cron)}`);
      if (!res.ok) throw new Error(`cron ${cron}: ${res.status} ${await res.text()}`);
    },
    stop,
  };
}
