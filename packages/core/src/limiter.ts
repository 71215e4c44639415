/**
 * A counting semaphore: at most `max` tasks run at once, the others wait their turn in the
 * order they came. Used by the transcoder (jobs, transcode slots, output uploads) and the web
 * app (files sent at once).
 */
export function limiter(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return {
    /** Tasks waiting for a turn. */
    get waiting() {
      return waiting.length;
    },
    run: async <T>(task: () => Promise<T>): Promise<T> => {
      if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        return await task();
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
  };
}
