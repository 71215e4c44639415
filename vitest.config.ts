import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      "workers/api/vitest.config.ts",
      "workers/stream-gate/vitest.config.ts",
      "containers/transcoder/vitest.config.ts",
      "test/e2e/vitest.config.ts",
      "test/repo/vitest.config.ts",
    ],
  },
});
