import { counterName, type CounterBatch, type PlayEventResult } from "@edge-music/core/play-events";

/** The PlayCounter Durable Objects of every track, `shards` per track. */
export class PlayCounters {
  constructor(
    private readonly namespace: Env["PLAY_COUNTER"],
    readonly shards: number,
  ) {}

  record(batch: CounterBatch): Promise<PlayEventResult[]> {
    return this.#stub(batch.trackId, batch.shard).record(batch);
  }

  /** Has every shard of these tracks write its latest totals to D1 (before a read). */
  async flush(trackIds: string[]): Promise<void> {
    await Promise.all(
      trackIds.flatMap((trackId) =>
        Array.from({ length: this.shards }, (_, shard) => this.#stub(trackId, shard).flush()),
      ),
    );
  }

  #stub(trackId: string, shard: number) {
    return this.namespace.get(this.namespace.idFromName(counterName(trackId, shard)));
  }
}
