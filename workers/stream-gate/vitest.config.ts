import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: path.join(here, "wrangler.toml") },
      miniflare: {
        bindings: {
          // Two keys, so rotation (an older kid still verifies) can be tested; random per run,
          // as the ring's validation demands.
          // Revocation records are read at once here; one test sets a delay and waits it out.
          GATE_REVOCATION_MEMO_SECONDS: "0",
          PLAYBACK_KEYS: JSON.stringify({
            k1: randomBytes(32).toString("base64url"),
            k0: randomBytes(32).toString("base64url"),
          }),
        },
      },
    }),
  ],
  test: { name: "stream-gate", root: here, include: ["src/**/*.test.ts"] },
});
