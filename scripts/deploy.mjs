// `npm run deploy`: everything the platform needs on a Cloudflare account, created where it
// is missing and left alone where it exists, then both workers and the transcoder deployed.
// Run it again at any time: every step first looks at what is there.
// `npm run deploy -- --dry-run` needs no account and no network: it prints the plan and
// bundles both workers exactly as a deploy would (`npm test` runs it).
//
// Secrets are generated where we can (signing keys, the transcoder's shared secret) and
// asked for where only the operator knows them (the R2 API token); answers can also come
// from the environment: R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, STRIPE_SECRET_KEY,
// STRIPE_WEBHOOK_SECRET, APP_ORIGIN (the web app's origin for the bucket's CORS rule; by
// default the one wrangler.toml states).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import {
  ROOT,
  WRANGLER_ENV,
  ensureDependencies,
  ensureWebBuild,
  wranglerBin,
} from "./lib/setup.mjs";

const DRY_RUN = process.argv.includes("--dry-run");
const API_CONFIG = path.join(ROOT, "wrangler.toml");
const GATE_CONFIG = path.join(ROOT, "workers/stream-gate/wrangler.toml");
const ENV = ["--env", "production"];
const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

/** What the production block of wrangler.toml names, read by wrangler's own config reader. */
async function productionNames() {
  // Imported here, not at the top: wrangler is one of the packages the deploy installs first.
  const { experimental_readRawConfig } = await import("wrangler");
  const production = experimental_readRawConfig({ config: API_CONFIG }).rawConfig.env?.production;
  if (!production) throw new Error("wrangler.toml has no [env.production]");
  return {
    database: production.d1_databases[0].database_name,
    bucket: production.r2_buckets[0].bucket_name,
    queues: [...new Set(production.queues.consumers.map((c) => c.queue))],
    image: production.containers[0].image,
    vars: production.vars,
  };
}

let step = 0;
const say = (text) => console.log(`${String(++step).padStart(2)}. ${text}`);

/** Runs wrangler; in a dry run only prints what would run, unless `always` (offline steps). */
function wrangler(args, { input, always = false, capture = false } = {}) {
  const shown = `wrangler ${args.join(" ")}`;
  if (DRY_RUN && !always) {
    console.log(`      would run: ${shown}`);
    return "";
  }
  const run = spawnSync(wranglerBin(), args, {
    cwd: ROOT,
    env: WRANGLER_ENV,
    input,
    encoding: "utf8",
    // A dry run keeps wrangler's listing of bindings to itself unless something fails.
    stdio: [
      input === undefined ? "inherit" : "pipe",
      capture || DRY_RUN ? "pipe" : "inherit",
      "pipe",
    ],
  });
  if (run.status !== 0) throw new Error(`${shown} failed:\n${run.stdout ?? ""}${run.stderr}`);
  if (DRY_RUN) console.log(`      ran: ${shown} (ok)`);
  return run.stdout ?? "";
}
const listed = (args) => (DRY_RUN ? "" : wrangler(args, { capture: true }));
/** Whether wrangler's listing names `name` as a whole name (not inside `name-old`). */
const names = (listing, name) =>
  new RegExp(`(^|[^\\w-])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w-])`, "m").test(
    listing,
  );

async function ask(name, question) {
  if (process.env[name]) return process.env[name];
  if (DRY_RUN) return `<${name}>`;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`      ${question}: `)).trim();
  } finally {
    rl.close();
  }
}
const keyRing = (kid) => JSON.stringify({ [kid]: randomBytes(32).toString("base64url") });

async function main() {
  console.log(DRY_RUN ? "Deploy plan (dry run: nothing is changed)\n" : "Deploying\n");
  ensureDependencies();
  const NAMES = await productionNames();

  say("Signed in to Cloudflare");
  if (!DRY_RUN) {
    // The account's id goes where wrangler.toml says ACCOUNT_ID (R2's S3 endpoint, the image).
    const account = /\b([0-9a-f]{32})\b/.exec(wrangler(["whoami"], { capture: true }))?.[1];
    if (!account) throw new Error("wrangler whoami named no account: run npx wrangler login");
    const current = readFileSync(API_CONFIG, "utf8");
    if (current.includes("ACCOUNT_ID")) {
      writeFileSync(API_CONFIG, current.replaceAll("ACCOUNT_ID", account));
      console.log(`      wrote the account id into wrangler.toml`);
    }
  }

  say(`D1 database ${NAMES.database}`);
  const databases = listed(["d1", "list", "--json"]);
  let database = DRY_RUN ? null : JSON.parse(databases).find((d) => d.name === NAMES.database);
  if (!database) {
    wrangler(["d1", "create", NAMES.database]);
    const after = listed(["d1", "list", "--json"]);
    database = DRY_RUN
      ? { uuid: "<new id>" }
      : JSON.parse(after).find((d) => d.name === NAMES.database);
  }
  const current = readFileSync(API_CONFIG, "utf8");
  if (!DRY_RUN && current.includes(PLACEHOLDER_DATABASE_ID)) {
    // Both blocks name the database; they must name the real one.
    writeFileSync(API_CONFIG, current.replaceAll(PLACEHOLDER_DATABASE_ID, database.uuid));
    console.log(`      wrote its id (${database.uuid}) into wrangler.toml`);
  }

  say(`R2 bucket ${NAMES.bucket}, with CORS for browser uploads and lifecycle rules`);
  if (!names(listed(["r2", "bucket", "list"]), NAMES.bucket)) {
    wrangler(["r2", "bucket", "create", NAMES.bucket]);
  }
  // The web app's origin, as wrangler.toml states it for Checkout's return (or APP_ORIGIN).
  const appOrigin = process.env["APP_ORIGIN"] ?? NAMES.vars.APP_ORIGIN;
  const scratch = mkdtempSync(path.join(tmpdir(), "deploy-"));
  try {
    const cors = path.join(scratch, "cors.json");
    // Uploads are presigned PUTs straight from the browser, with these two headers signed.
    writeFileSync(
      cors,
      JSON.stringify({
        rules: [
          {
            allowed: {
              origins: [appOrigin],
              methods: ["PUT"],
              headers: ["content-type", "content-length"],
            },
            exposeHeaders: ["ETag"],
            maxAgeSeconds: 3600,
          },
        ],
      }),
    );
    wrangler(["r2", "bucket", "cors", "set", NAMES.bucket, "--file", cors, "--force"]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const rules = listed(["r2", "bucket", "lifecycle", "list", NAMES.bucket]);
  if (!names(rules, "uploads-abort-multipart")) {
    wrangler([
      "r2",
      "bucket",
      "lifecycle",
      "add",
      NAMES.bucket,
      "uploads-abort-multipart",
      "uploads/",
      "--abort-multipart-days",
      "1",
      "--force",
    ]);
  }
  if (!names(rules, "uploads-infrequent-access")) {
    wrangler([
      "r2",
      "bucket",
      "lifecycle",
      "add",
      NAMES.bucket,
      "uploads-infrequent-access",
      "uploads/",
      "--ia-transition-days",
      "30",
      "--force",
    ]);
  }

  say(`Queues ${NAMES.queues.join(", ")}`);
  const queues = listed(["queues", "list"]);
  for (const queue of NAMES.queues) {
    if (!names(queues, queue)) wrangler(["queues", "create", queue]);
  }

  say("Secrets (generated where we can, asked for where only you know them)");
  const apiSecrets = listed(["secret", "list", "-c", API_CONFIG, ...ENV]);
  const gateSecrets = listed(["secret", "list", "-c", GATE_CONFIG]);
  const has = (list, name) => list.includes(`"${name}"`);
  const put = (name, value, config = API_CONFIG, env = ENV) =>
    wrangler(["secret", "put", name, "-c", config, ...env], { input: `${value}\n` });
  if (!has(apiSecrets, "JWT_KEYS")) put("JWT_KEYS", keyRing(NAMES.vars.JWT_ACTIVE_KID));
  if (!has(apiSecrets, "TRANSCODER_SECRET"))
    put("TRANSCODER_SECRET", randomBytes(32).toString("base64url"));
  if (!has(apiSecrets, "PLAYBACK_KEYS") || !has(gateSecrets, "PLAYBACK_KEYS")) {
    // The api signs playback tokens and the gate checks them: one ring, set on both.
    const ring = keyRing(NAMES.vars.PLAYBACK_ACTIVE_KID);
    put("PLAYBACK_KEYS", ring);
    put("PLAYBACK_KEYS", ring, GATE_CONFIG, []);
  }
  // Wraps every content key: generated once and never replaced here (rotation adds a key to
  // the ring and moves CONTENT_KEK_ACTIVE_KID; see the README).
  if (!has(apiSecrets, "CONTENT_KEKS"))
    put("CONTENT_KEKS", keyRing(NAMES.vars.CONTENT_KEK_ACTIVE_KID));
  for (const [name, question] of [
    ["R2_ACCESS_KEY_ID", "an R2 API token's access key id (read and write on the bucket)"],
    ["R2_SECRET_ACCESS_KEY", "that token's secret access key"],
  ]) {
    if (!has(apiSecrets, name)) put(name, await ask(name, question));
  }
  for (const name of ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]) {
    // Optional: without them the api says billing is not configured.
    if (!has(apiSecrets, name) && process.env[name]) put(name, process.env[name]);
  }

  say("D1 migrations");
  wrangler(["d1", "migrations", "apply", "DB", "--remote", ...ENV]);

  say("The web app (web/dist, served by the api)");
  ensureWebBuild();

  say(`The transcoder's image (${NAMES.image})`);
  wrangler([
    "containers",
    "build",
    "-p",
    "-t",
    NAMES.image.split("/").pop(),
    "-f",
    "containers/transcoder/Dockerfile",
    ".",
  ]);

  say("The api (with its Durable Objects and the transcoder container) and the stream-gate");
  const outdir = DRY_RUN ? mkdtempSync(path.join(tmpdir(), "deploy-dry-run-")) : null;
  try {
    const bundle = DRY_RUN ? ["--dry-run", "--outdir", outdir] : [];
    wrangler(["deploy", "-c", API_CONFIG, ...ENV, ...bundle], { always: true });
    wrangler(["deploy", "-c", GATE_CONFIG, ...bundle], { always: true });
  } finally {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  }
  console.log(
    DRY_RUN
      ? "\nDry run done: both workers bundle. Run without --dry-run to deploy."
      : "\nDeployed. Register the first admin's account in the web app, then:\n" +
          "  npm run admin -- grant you@example.com --remote --env production",
  );
}

main().catch((error) => {
  console.error(`\nnpm run deploy failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
