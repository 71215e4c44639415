#!/usr/bin/env node
// `npm run repackage`: re-packages the published tracks whose media is still clear as new,
// encrypted asset versions (no audio is encoded again), then waits until none is left.
// An admin account does it: EDGE_MUSIC_ADMIN_EMAIL and EDGE_MUSIC_ADMIN_PASSWORD, or asked.
import { createInterface } from "node:readline/promises";

const USAGE = "usage: npm run repackage -- [--api <url>] [--limit <tracks>]";
const args = process.argv.slice(2);
let api = "http://127.0.0.1:8787";
let limit = 1000;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--api") api = String(args[++i]).replace(/\/+$/, "");
  else if (args[i] === "--limit") limit = Number(args[++i]);
  else {
    console.error(`unknown argument ${args[i]}\n${USAGE}`);
    process.exit(2);
  }
}
if (!Number.isInteger(limit) || limit < 1) {
  console.error(`--limit must be a whole number of tracks\n${USAGE}`);
  process.exit(2);
}

async function ask(question, hidden = false) {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) rl._writeToOutput = () => undefined;
  const answer = await rl.question(question);
  rl.close();
  if (hidden) process.stdout.write("\n");
  return answer.trim();
}

async function call(method, path, token, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : null,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.detail ?? ""}`.trim());
  return json;
}

try {
  const email = process.env.EDGE_MUSIC_ADMIN_EMAIL || (await ask("Admin email: "));
  const password = process.env.EDGE_MUSIC_ADMIN_PASSWORD || (await ask("Password: ", true));
  const { accessToken } = await call("POST", "/v1/auth/login", null, { email, password });
  const before = await call("GET", "/v1/admin/repackage", accessToken);
  const started = await call("POST", "/v1/admin/repackage", accessToken, { limit });
  console.log(`queued ${started.queued} track(s); ${before.encrypted} already encrypted`);
  // Waits while the queue works through them; gives up after two minutes without progress.
  const target = before.clear - started.queued;
  let last = before.clear;
  let lastChange = Date.now();
  for (;;) {
    const { clear, encrypted } = await call("GET", "/v1/admin/repackage", accessToken);
    if (clear !== last) {
      console.log(`clear ${clear}, encrypted ${encrypted}`);
      last = clear;
      lastChange = Date.now();
    }
    if (clear <= target) break;
    if (Date.now() - lastChange > 120_000) {
      throw new Error(`${clear} track(s) still clear after two minutes without progress`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(last === 0 ? "every published track is encrypted" : `${last} track(s) left clear`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
