import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildTranscoder } from "../build.mjs";

describe("the container entry point", () => {
  it("bundles to one file that plain node runs, refusing to start without its secret", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "transcoder-bundle-"));
    try {
      const bundle: string = await buildTranscoder(path.join(dir, "main.mjs"));
      const refused = spawn(process.execPath, [bundle], {
        env: { ...process.env, TRANSCODER_SECRET: "" },
      });
      expect(await new Promise((r) => refused.once("exit", r))).toBe(1);
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const server = spawn(process.execPath, [bundle], {
        env: {
          ...process.env,
          TRANSCODER_SECRET: "bundle-secret",
          TRANSCODER_PORT: String(port),
          TRANSCODER_HOST: "127.0.0.1",
        },
        stdio: "ignore",
      });
      try {
        let answer = "";
        for (let i = 0; i < 50 && answer !== "pong"; i++) {
          answer = await fetch(`http://127.0.0.1:${port}/ping`)
            .then((r) => r.text())
            .catch(() => "");
          if (answer !== "pong") await new Promise((r) => setTimeout(r, 100));
        }
        expect(answer).toBe("pong");
      } finally {
        server.kill("SIGTERM");
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
