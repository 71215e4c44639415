import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Facts about the repository itself (configuration files agree with the code), in Node. */
export default defineConfig({
  test: {
    name: "repo",
    root: path.dirname(fileURLToPath(import.meta.url)),
    include: ["**/*.test.ts"],
    environment: "node",
  },
});
