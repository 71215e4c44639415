/**
 * A per-isolate memo: entries live for a time to live and the oldest go first once there are
 * more than `maxEntries`. For facts an isolate may reuse for a documented while (who may play
 * a track) rather than read on every request.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { until: number; value: V }>();

  constructor(private readonly maxEntries: number) {}

  /** The value of `key` while it lives, else undefined. */
  get(key: string, now = Date.now()): { value: V } | undefined {
    const entry = this.#entries.get(key);
    return entry && entry.until > now ? { value: entry.value } : undefined;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    // Re-inserted, so the Map's insertion order stays the order of age.
    this.#entries.delete(key);
    this.#entries.set(key, { until: now + ttlMs, value });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Drops every entry whose key passes `test`. */
  forget(test: (key: string) => boolean): void {
    for (const key of this.#entries.keys()) if (test(key)) this.#entries.delete(key);
  }
}
