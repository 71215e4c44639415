declare namespace Cloudflare {
  interface Env {
    /** JSON object of playback token HMAC keys by key id (a secret shared with the api). */
    PLAYBACK_KEYS: string;
    /** "off" bypasses the Cache API (the benchmark's uncached variant); anything else uses it. */
    GATE_CACHE?: string;
    /** Seconds an isolate trusts a track's revocation record (default 30): the refusal delay. */
    GATE_REVOCATION_MEMO_SECONDS?: string;
  }
}
