#!/usr/bin/env node
// `npm start`: install what is missing, migrate and seed local D1, then run the api (and
// web player), the stream-gate and the transcoder until Ctrl-C, which stops all of them.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setAdmin } from "./lib/admin.mjs";
import { supervise } from "./lib/supervise.mjs";
import { DEMO_ACCOUNTS, seedDemo } from "./lib/demo-catalog.mjs";
import {
  ROOT,
  STATE_DIR,
  WRANGLER_ENV,
  applyLocalMigrations,
  ensureDependencies,
  ensureWebBuild,
  ensureDevVars,
  ensureFfmpeg,
  waitHealthy,
  wranglerBin,
  wranglerDevArgs,
} from "./lib/setup.mjs";

const ports = {
  api: Number(process.env.API_PORT ?? 8787),
  gate: Number(process.env.GATE_PORT ?? 8788),
  transcoder: Number(process.env.TRANSCODER_PORT ?? 8789),
};
const PID_FILE = path.join(ROOT, ".wrangler/npm-start.pid");

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function refuseIfRunning() {
  if (existsSync(PID_FILE)) {
    const pid = Number(readFileSync(PID_FILE, "utf8"));
    if (pid && alive(pid)) {
      console.error(
        `npm start is already running (pid ${pid}): the player is at http://localhost:${ports.api}/.\n` +
          "Stop it with Ctrl-C in its terminal (or kill " +
          pid +
          ") before starting another.",
      );
      process.exit(1);
    }
  }
  for (const [name, port] of Object.entries(ports)) {
    if (!(await portFree(port))) {
      const variable = { api: "API_PORT", gate: "GATE_PORT", transcoder: "TRANSCODER_PORT" }[name];
      console.error(
        `Port ${port} (the ${name}) is already in use by another program.\n` +
          `Stop that program, or choose another port: ${variable}=<port> npm start`,
      );
      process.exit(1);
    }
  }
}

const services = [];
let stopping = false;

/**
 * Starts a service under supervision: its output prefixed with its name, and started again
 * if it dies (the others keep serving). Ctrl-C stops them all.
 */
function run(name, command, args, env) {
  const service = supervise(
    name,
    () => {
      const child = spawn(command, args, {
        cwd: ROOT,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const prefix = (stream, out) => {
        let buffered = "";
        stream.on("data", (chunk) => {
          buffered += chunk;
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) if (line.trim()) out.write(`[${name}] ${line}\n`);
        });
      };
      prefix(child.stdout, process.stdout);
      prefix(child.stderr, process.stderr);
      return child;
    },
    { log: (message) => console.error(message) },
  );
  services.push(service);
  return service;
}

/** Stops every service's whole process group (wrangler starts workerd beneath it). */
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping the api, stream-gate and transcoder…");
  await Promise.all(services.map((s) => s.stop()));
  rmSync(PID_FILE, { force: true });
  process.exit(code);
}

/** A value from .dev.vars (written by ensureDevVars), shared with the Node transcoder. */
function readDevVar(name) {
  const line = readFileSync(path.join(ROOT, ".dev.vars"), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  if (!line)
    throw new Error(`${name} is missing from .dev.vars; delete the file and run npm start again`);
  return line.slice(name.length + 1);
}

await refuseIfRunning();
ensureDependencies();
ensureWebBuild();
ensureFfmpeg({ required: true });
ensureDevVars();
mkdirSync(STATE_DIR, { recursive: true });
applyLocalMigrations();
writeFileSync(PID_FILE, String(process.pid));
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

// Presigned URLs point at the api's own dev storage route; the queue consumer calls the
// transcoder started below.
run(
  "api",
  wranglerBin(),
  wranglerDevArgs({
    port: ports.api,
    inspectorPort: ports.api + 1442,
    vars: {
      R2_S3_ENDPOINT: `http://localhost:${ports.api}/dev/r2`,
      TRANSCODER_URL: `http://127.0.0.1:${ports.transcoder}`,
      GATE_ORIGIN: `http://localhost:${ports.gate}`,
    },
    // Cron locally: curl "http://localhost:8787/__scheduled?cron=17+3+*+*+*"
    extra: ["--test-scheduled"],
  }),
  WRANGLER_ENV,
);
run("transcoder", path.join(ROOT, "node_modules/.bin/tsx"), ["containers/transcoder/src/main.ts"], {
  ...process.env,
  TRANSCODER_PORT: String(ports.transcoder),
  TRANSCODER_HOST: "127.0.0.1",
  TRANSCODER_SECRET: readDevVar("TRANSCODER_SECRET"),
});

try {
  // The gate shares the api's local state folder; two workerd processes opening it at the
  // same moment can hit SQLITE_BUSY, so the gate starts once the api is up.
  await waitHealthy(`http://127.0.0.1:${ports.api}/healthz`, { abandoned: () => stopping });
  run(
    "gate",
    wranglerBin(),
    wranglerDevArgs({
      config: "workers/stream-gate/wrangler.toml",
      port: ports.gate,
      inspectorPort: ports.gate + 1442,
    }),
    WRANGLER_ENV,
  );
  await Promise.all([
    ...Object.values(ports).map((port) =>
      waitHealthy(`http://127.0.0.1:${port}/healthz`, { abandoned: () => stopping }),
    ),
  ]);
  const { created } = await seedDemo(`http://127.0.0.1:${ports.api}`, {
    grantAdmin: (email) => setAdmin(email, true),
  });
  console.log(
    [
      "",
      "Edge Music is running.",
      `  Web app:      http://localhost:${ports.api}/   (the web player: sign in with a demo account below)`,
      `  API docs:     http://localhost:${ports.api}/docs/   (OpenAPI: /openapi.json)`,
      `  Stream-gate:  http://localhost:${ports.gate}/`,
      `  Transcoder:   http://localhost:${ports.transcoder}/`,
      `  Demo catalog: ${created > 0 ? `${created} tracks generated, uploaded and transcoded` : "already seeded"}`,
      "  Demo accounts (email / password):",
      ...Object.entries(DEMO_ACCOUNTS).map(
        ([role, a]) => `    ${role.padEnd(8)} ${a.email} / ${a.password}`,
      ),
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : error}`);
  await shutdown(1);
}
