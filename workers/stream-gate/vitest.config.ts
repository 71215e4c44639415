import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: path.join(here, "wrangler.toml") } })],
  test: { name: "stream-gate", root: here, include: ["src/**/*.test.ts"] },
});
