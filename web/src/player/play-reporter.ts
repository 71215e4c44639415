import { api } from "../api";

export type PlayEvent = {
  eventId: string;
  playbackId: string;
  trackId: string;
  type: "start" | "progress" | "pause" | "resume" | "seek" | "skip" | "end";
  positionMs: number;
  playedMs: number;
  rendition: string;
  occurredAt: string;
};

/** The api takes at most this many events a request. */
const BATCH_MAX = 100;
const FLUSH_EVERY_MS = 10_000;
const FLUSH_AT = 20;
/** Events kept for a retry; beyond this the oldest go (the api refuses day-old ones anyway). */
const QUEUE_MAX = 1000;

/**
 * Sends playback events in batches: every 10 s, at 20 queued, and when the page is hidden
 * (with `keepalive`, so a closing tab still delivers). Failed sends stay queued and are
 * retried; events the api refuses one by one are dropped, since resending cannot help.
 */
export class PlayReporter {
  #queue: PlayEvent[] = [];
  #sending = false;

  constructor() {
    setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    addEventListener("pagehide", () => void this.flush(true));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") void this.flush(true);
    });
  }

  add(event: Omit<PlayEvent, "eventId" | "occurredAt">): void {
    this.#queue.push({
      ...event,
      eventId: crypto.randomUUID(),
      occurredAt: new Date().toISOString(),
    });
    if (this.#queue.length > QUEUE_MAX) this.#queue.splice(0, this.#queue.length - QUEUE_MAX);
    if (this.#queue.length >= FLUSH_AT) void this.flush();
  }

  async flush(keepalive = false): Promise<void> {
    if (this.#sending || !this.#queue.length || !api.signedIn) return;
    this.#sending = true;
    const batch = this.#queue.splice(0, BATCH_MAX);
    try {
      await api.post("/v1/playback-events", { events: batch }, { keepalive });
    } catch {
      this.#queue.unshift(...batch);
    } finally {
      this.#sending = false;
    }
  }
}
