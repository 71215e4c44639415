import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { startStripeRecorder } from "./stripe-recorder";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

/** Test-only key ring: two keys so rotation (verify with an old kid) can be tested. */
export const TEST_JWT_KEYS = {
  k1: randomBytes(32).toString("base64url"),
  k0: randomBytes(32).toString("base64url"),
};

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: path.join(root, "wrangler.toml") },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
          TEST_JWT_KEYS: TEST_JWT_KEYS,
          ENVIRONMENT: "test",
          JWT_KEYS: JSON.stringify(TEST_JWT_KEYS),
          JWT_ACTIVE_KID: "k1",
          // Fewer rounds keep the suite fast; the stored hash records whatever count was used.
          PASSWORD_PBKDF2_ITERATIONS: "2000",
          R2_S3_ENDPOINT: "https://api.test/dev/r2",
          R2_ACCESS_KEY_ID: "test-access-key",
          R2_SECRET_ACCESS_KEY: "test-secret-access-key",
          TRANSCODER_SECRET: "test-transcoder-secret",
          UPLOADS_IN_FLIGHT_MAX: "3",
          // Nothing listens here: consumer tests see the transcoder as unreachable.
          TRANSCODER_URL: "http://127.0.0.1:9",
          INGEST_MAX_ATTEMPTS: "2",
          GATE_ORIGIN: "https://gate.test",
          PLAYBACK_KEYS: JSON.stringify({ p1: randomBytes(32).toString("base64url") }),
          PLAYBACK_ACTIVE_KID: "p1",
          CONTENT_KEKS: JSON.stringify({
            kek1: randomBytes(32).toString("base64url"),
            kek0: randomBytes(32).toString("base64url"),
          }),
          // Stripe cannot be reached offline: a local server answers and records what we send.
          STRIPE_API_BASE: await startStripeRecorder(),
          STRIPE_SECRET_KEY: "sk_test_recorded",
          STRIPE_WEBHOOK_SECRET: "whsec_test_secret",
        },
      },
    }),
  ],
  test: {
    name: "api",
    root: here,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
  },
}));
