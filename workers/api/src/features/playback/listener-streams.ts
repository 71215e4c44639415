import type { StreamAdmission } from "@edge-music/core/play-events";

/** The ListenerStreams Durable Objects: one per account, keeping its playbacks' played time. */
export class ListenerStreamLimits {
  constructor(private readonly namespace: Env["LISTENER_STREAMS"]) {}

  /** Event ids whose played time may not accumulate (too many playbacks at once). */
  admit(userId: string, admission: StreamAdmission): Promise<string[]> {
    return this.#stub(userId).admit(admission);
  }

  /** Gives back the time of admitted events that their counter then refused. */
  async release(userId: string, eventIds: string[]): Promise<void> {
    if (eventIds.length) await this.#stub(userId).release(eventIds);
  }

  /** An erased account: its object keeps nothing. */
  async forget(userId: string): Promise<void> {
    await this.#stub(userId).forget();
  }

  #stub(userId: string) {
    return this.namespace.get(this.namespace.idFromName(userId));
  }
}
