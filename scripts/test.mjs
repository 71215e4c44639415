#!/usr/bin/env node
// `npm test`: typecheck every project, run every vitest suite (workers in workerd, the
// transcoder in Node), then print one closing line `N passed, N failed` that CI reads.
// Each typechecked project, and the deploy dry-run, counts as one test.
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

// `npm run deploy -- --dry-run`: the deploy plan runs offline and both workers bundle for
// deployment exactly as `wrangler deploy` would.
if (!securityOnly) {
  const run = spawnSync(process.execPath, ["scripts/deploy.mjs", "--dry-run"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (run.status === 0 && /both workers bundle/.test(run.stdout)) {
    passed++;
    console.log("deploy dry-run: plan and both workers ok");
  } else {
    failed++;
    console.error(`deploy dry-run failed\n${run.stdout}\n${run.stderr}`);
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
