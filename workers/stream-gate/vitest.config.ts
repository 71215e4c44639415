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
          PLAYBACK_KEYS: JSON.stringify({
            k1: "gate-test-key-one-0123456789abcdef",
            k0: "gate-test-key-old-0123456789abcdef",
          }),
        },
      },
    }),
  ],
  test: { name: "stream-gate", root: here, include: ["src/**/*.test.ts"] },
});
