import {
  counterName,
  type CounterBatch,
  type CounterForget,
  type PlayEventResult,
} from "@edge-music/core/play-events";

/** The PlayCounter Durable Objects: one per track, or several for a hot track (by grant). */
export class PlayCounters {
  constructor(private readonly namespace: Env["PLAY_COUNTER"]) {}

  record(batch: CounterBatch): Promise<PlayEventResult[]> {
    return this.#stub(batch.trackId, batch.shard).record(batch);
  }

  /** Has these counters of a track write their latest totals to D1 (before a read). */
  async flush(trackId: string, shards: number[]): Promise<void> {
    await Promise.all(shards.map((shard) => this.#stub(trackId, shard).flush()));
  }

  /** Has a counter drop what it holds about these playbacks of an erased account. */
  async forget(trackId: string, shard: number, forget: CounterForget): Promise<void> {
    await this.#stub(trackId, shard).forget(forget);
  }

  #stub(trackId: string, shard: number) {
    return this.namespace.get(this.namespace.idFromName(counterName(trackId, shard)));
  }
}
