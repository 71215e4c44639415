import type { ChildProcess } from "node:child_process";

export declare function supervise(
  name: string,
  start: () => ChildProcess,
  options?: {
    log?: (message: string) => void;
    firstBackoffMs?: number;
    maxBackoffMs?: number;
    healthyAfterMs?: number;
  },
): {
  readonly child: ChildProcess;
  readonly restarts: number;
  stop(graceMs?: number): Promise<void>;
};
