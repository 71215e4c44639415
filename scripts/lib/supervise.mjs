// Keeps `npm start`'s services running: one that dies on its own is started again, with a
// growing pause, and the others keep serving. Ctrl-C still stops everything.

/**
 * Supervises the process that `start()` spawns (detached: its own process group, so
 * wrangler's workerd goes with it). When it exits without being asked to, it is started again
 * after `backoff` (1 s, doubling to 30 s; back to 1 s once a run lasted a minute).
 * `stop()` ends it for good: SIGTERM to the group, SIGKILL after `graceMs`.
 * @param {string} name
 * @param {() => import("node:child_process").ChildProcess} start
 */
export function supervise(
  name,
  start,
  {
    log = console.error,
    firstBackoffMs = 1000,
    maxBackoffMs = 30_000,
    healthyAfterMs = 60_000,
  } = {},
) {
  let child;
  let stopped = false;
  let backoff = firstBackoffMs;
  let timer;
  let restarts = 0;
  const launch = () => {
    const startedAt = Date.now();
    child = start();
    child.once("exit", (code, signal) => {
      if (stopped) return;
      if (Date.now() - startedAt >= healthyAfterMs) backoff = firstBackoffMs;
      log(`[${name}] exited (${signal ?? code}); starting it again in ${backoff / 1000} s`);
      timer = setTimeout(() => {
        restarts++;
        launch();
      }, backoff);
      backoff = Math.min(maxBackoffMs, backoff * 2);
    });
  };
  launch();
  const running = () => child.exitCode === null && child.signalCode === null;
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    get child() {
      return child;
    },
    get restarts() {
      return restarts;
    },
    /** Ends the service for good, its whole process group. */
    async stop(graceMs = 5000) {
      stopped = true;
      clearTimeout(timer);
      if (!running()) return;
      signalGroup("SIGTERM");
      const deadline = Date.now() + graceMs;
      while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      signalGroup("SIGKILL");
    },
  };
}
