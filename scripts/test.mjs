#!/usr/bin/env node
// `npm test`: typecheck every project, run every vitest suite (workers in workerd, the
// transcoder in Node), then print one closing line `N passed, N failed` that CI reads.
// Each typechecked project and each worker's deploy dry-run counts as one test.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ensureDependencies,
  ensureWebBuild,
  ensureDebianPackages,
  ensureFfmpeg,
  ROOT,
  WRANGLER_ENV,
  wranglerBin,
} from "./lib/setup.mjs";

// `npm run test:security`: only the attack suites (files named *.security.*), in every project.
const securityOnly = process.argv.includes("--security");
const vitestArgs = process.argv.slice(2).filter((a) => a !== "--security");
if (securityOnly) vitestArgs.push("security");

ensureDependencies();
ensureFfmpeg({ required: false });
// The web player's tests drive Debian's chromium with playwright-core.
ensureDebianPackages({
  commands: ["chromium"],
  packages: ["chromium"],
  purpose: "the web player's browser tests need it",
  required: false,
});

const TYPECHECK_PROJECTS = [
  ".",
  "workers/api",
  "workers/stream-gate",
  "containers/transcoder",
  "web",
];
let passed = 0;
let failed = 0;
let skipped = 0;

// The api serves the built web player; a build that fails is one failed check, not a crash.
try {
  ensureWebBuild();
  if (!securityOnly) passed++;
} catch (error) {
  failed++;
  console.error(`web build failed: ${error.message}`);
}

let clean = 0;
for (const project of securityOnly ? [] : TYPECHECK_PROJECTS) {
  const run = spawnSync("npx", ["tsc", "-p", project], { cwd: ROOT, stdio: "inherit" });
  if (run.status === 0) {
    passed++;
    clean++;
  } else {
    failed++;
    console.error(`typecheck failed: ${project}`);
  }
}
if (!securityOnly)
  console.log(`typecheck: ${clean} of ${TYPECHECK_PROJECTS.length} projects clean`);

// Both workers must bundle for deployment, offline, exactly as `wrangler deploy` would.
for (const [name, args] of securityOnly
  ? []
  : [
      [
        "api (production, with the transcoder container)",
        ["-c", "wrangler.toml", "--env", "production"],
      ],
      ["stream-gate", ["-c", "workers/stream-gate/wrangler.toml"]],
    ]) {
  const outdir = mkdtempSync(path.join(tmpdir(), "dry-run-"));
  const run = spawnSync(wranglerBin(), ["deploy", "--dry-run", ...args, "--outdir", outdir], {
    cwd: ROOT,
    env: WRANGLER_ENV,
    encoding: "utf8",
  });
  rmSync(outdir, { recursive: true, force: true });
  if (run.status === 0) {
    passed++;
    console.log(`deploy dry-run: ${name} ok`);
  } else {
    failed++;
    console.error(`deploy dry-run failed: ${name}\n${run.stdout}\n${run.stderr}`);
  }
}

const outDir = mkdtempSync(path.join(tmpdir(), "vitest-"));
const report = path.join(outDir, "report.json");
const vitest = spawnSync(
  "npx",
  [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...vitestArgs,
  ],
  { cwd: ROOT, stdio: "inherit" },
);
try {
  const results = JSON.parse(readFileSync(report, "utf8"));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += results.numPendingTests + results.numTodoTests;
  // A suite that failed to load has no tests to count: count it as a failure.
  failed += results.testResults.filter(
    (r) => r.status === "failed" && r.assertionResults.length === 0,
  ).length;
} catch {
  console.error("vitest wrote no report: counting the run as failed");
  failed++;
}
rmSync(outDir, { recursive: true, force: true });
if (vitest.status !== 0 && failed === 0) failed++;

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed === 0 ? 0 : 1);
