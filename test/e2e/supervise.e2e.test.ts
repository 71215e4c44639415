import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { supervise } from "../../scripts/lib/supervise.mjs";

const alive = (pid: number | undefined) => {
  try {
    process.kill(pid ?? 0, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm start's supervisor", () => {
  it("starts a service that died again, with a growing pause, and stops it for good on request", async () => {
    const logged: string[] = [];
    // A service that dies 100 ms after it starts, every time.
    const service = supervise(
      "flaky",
      () =>
        spawn(process.execPath, ["-e", "setTimeout(() => process.exit(3), 100)"], {
          detached: true,
        }),
      { log: (m) => logged.push(m), firstBackoffMs: 100, maxBackoffMs: 400 },
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(service.restarts).toBeGreaterThanOrEqual(3);
    expect(logged[0]).toBe("[flaky] exited (3); starting it again in 0.1 s");
    expect(logged).toContain("[flaky] exited (3); starting it again in 0.4 s");
    await service.stop();
    const after = service.restarts;
    await new Promise((r) => setTimeout(r, 600));
    expect(service.restarts).toBe(after);
  });

  it("a killed service comes back while the others keep running; stop ends the whole group", async () => {
    const steady = supervise(
      "steady",
      () => spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true }),
      { log: () => undefined, firstBackoffMs: 50 },
    );
    const victim = supervise(
      "victim",
      () => spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true }),
      { log: () => undefined, firstBackoffMs: 50 },
    );
    const steadyPid = steady.child.pid;
    const firstPid = victim.child.pid;
    process.kill(firstPid ?? 0, "SIGKILL");
    await new Promise((r) => setTimeout(r, 400));
    expect(victim.restarts).toBe(1);
    expect(victim.child.pid).not.toBe(firstPid);
    expect(alive(victim.child.pid)).toBe(true);
    expect(steady.child.pid).toBe(steadyPid);
    expect(alive(steadyPid)).toBe(true);
    const lastPid = victim.child.pid;
    await Promise.all([steady.stop(), victim.stop()]);
    expect(alive(steadyPid)).toBe(false);
    expect(alive(lastPid)).toBe(false);
  });
});
