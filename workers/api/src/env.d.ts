// Secrets and dev-only settings that `wrangler types` cannot see in wrangler.toml.
declare namespace Cloudflare {
  interface Env {
    /** JSON object of HS256 keys by key id, e.g. {"k1":"..."}; a wrangler secret. */
    JWT_KEYS: string;
    /** R2 API token for presigned URLs (locally: any pair, checked by the dev route). */
    R2_ACCESS_KEY_ID: string;
    R2_SECRET_ACCESS_KEY: string;
    /** Playback token keys by key id (JSON); the stream-gate holds the same. */
    PLAYBACK_KEYS: string;
    /** Key-encryption keys by key id (JSON) that wrap content keys; a wrangler secret. */
    CONTENT_KEKS: string;
    /** Shared secret the transcoder requires. */
    TRANSCODER_SECRET: string;
    /** Stripe's secret API key and the webhook endpoint's signing secret; optional. */
    STRIPE_SECRET_KEY?: string;
    STRIPE_WEBHOOK_SECRET?: string;
  }
}
