// Secrets and dev-only settings that `wrangler types` cannot see in wrangler.toml.
declare namespace Cloudflare {
  interface Env {
    /** JSON object of HS256 keys by key id, e.g. {"k1":"..."}; a wrangler secret. */
    JWT_KEYS: string;
  }
}
