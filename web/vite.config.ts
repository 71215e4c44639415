import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The web player: built into web/dist, which the api worker serves as static assets. */
export default defineConfig({
  root: here,
  publicDir: path.join(here, "public"),
  // dash.js (about 800 kB) is loaded only when someone picks DASH.
  build: {
    outDir: path.join(here, "dist"),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 900,
  },
});
